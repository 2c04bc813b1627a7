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
 * Checksum digit for the first 15 digits (spaces ignored). docs/contact-id.md §1: S in 1–F makes the
 * 16-digit total a multiple of 15; when the 15 digits already are one, S = F. A value of 10 is
 * written as `0`, the digit that carries ten in a Contact ID message.
 * Throws RangeError unless given exactly 15 hex digits.
 */
export function cidChecksum(first15: string): string {
  const digits = withoutSpaces(first15);
  const sum = digits.length === 15 ? digitSum(digits) : null;
  if (sum === null) throw new RangeError(`Contact ID checksum needs 15 hex digits, got "${first15}"`);
  const value = CHECKSUM_MODULUS - (sum % CHECKSUM_MODULUS); // 1–15; 15 when already a multiple
  return value === 10 ? '0' : HEX_DIGITS.charAt(value);
}

/** Whether 16 hex digits (spaces ignored) sum to a multiple of 15 (docs/contact-id.md §1). False for any other text. */
export function isCidChecksumValid(message: string): boolean {
  const digits = withoutSpaces(message);
  if (digits.length !== 16) return false;
  const sum = digitSum(digits);
  return sum !== null && sum % CHECKSUM_MODULUS === 0;
}
