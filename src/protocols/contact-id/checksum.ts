/**
 * The DC-05 checksum digit S of a 16-digit Contact ID DTMF message (docs/contact-id.md §1).
 */

const HEX_DIGITS = '0123456789ABCDEF';
const CHECKSUM_MODULUS = 15;

/**
 * Value of one message digit. docs/contact-id.md §1: 0 counts as 10 (it is sent as the tenth tone),
 * B–F count as 11–15, and A is 10 as well. Returns null for a character that is not a hex digit.
 */
export function cidDigitValue(digit: string): number | null {
  if (digit.length !== 1) return null;
  const value = HEX_DIGITS.indexOf(digit.toUpperCase());
  if (value < 0) return null;
  return value === 0 ? 10 : value;
}

/** Sum of digit values, or null when `digits` holds anything but hex digits. */
function digitSum(digits: string): number | null {
  let sum = 0;
  for (const digit of digits) {
    const value = cidDigitValue(digit);
    if (value === null) return null;
    sum += value;
  }
  return sum;
}

function withoutSpaces(text: string): string {
  return text.replace(/ /g, '');
}

/**
 * The check digit that makes `digits` plus itself sum to a multiple of 15 (docs/contact-id.md §1: S in 1–F, F when the digits
 * already are one; a value of 10 is written `0`, the digit that carries ten). Null unless all hex digits.
 */
export function cidCheckDigit(digits: string): string | null {
  const sum = digitSum(withoutSpaces(digits));
  if (sum === null) return null;
  const value = CHECKSUM_MODULUS - (sum % CHECKSUM_MODULUS); // 1–15; 15 when already a multiple
  return value === 10 ? '0' : HEX_DIGITS.charAt(value);
}

/**
 * Checksum digit for the first 15 digits (spaces ignored), docs/contact-id.md §1.
 * Throws RangeError unless given exactly 15 hex digits.
 */
export function cidChecksum(first15: string): string {
  const digit = withoutSpaces(first15).length === 15 ? cidCheckDigit(first15) : null;
  if (digit === null) throw new RangeError(`Contact ID checksum needs 15 hex digits, got "${first15}"`);
  return digit;
}

/** Whether hex digits (spaces ignored, check digit included) sum to a multiple of 15 (docs/contact-id.md §1); false for other text. */
export function cidDigitsSumOk(digits: string): boolean {
  const sum = digitSum(withoutSpaces(digits));
  return sum !== null && sum > 0 && sum % CHECKSUM_MODULUS === 0;
}

/** Whether 16 hex digits (spaces ignored) sum to a multiple of 15 (docs/contact-id.md §1). False for any other text. */
export function isCidChecksumValid(message: string): boolean {
  return withoutSpaces(message).length === 16 && cidDigitsSumOk(message);
}
