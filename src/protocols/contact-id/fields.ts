/**
 * Shapes of the Contact ID fields shared by the parsers and the builders
 * (docs/contact-id.md §1 field widths, docs/contact-id.md §4 `#acct|` wrapper).
 */

/** One hex digit as a regex source. docs/contact-id.md §1: every message digit is hex. */
export const HEX_DIGIT = '[0-9A-Fa-f]';

/** docs/contact-id.md §4: the `#acct|` account of an ADM-CID data block, 1–16 letters or digits. */
export const DATA_ACCOUNT_PATTERN = /^[0-9A-Za-z]{1,16}$/;

/** Widths of the fixed hex fields (docs/contact-id.md §1: AAAA, EEE, GG, CCC). */
export const FIELD_WIDTH = { account: 4, code: 3, group: 2, zone: 3 } as const;

export type FixedFieldName = keyof typeof FIELD_WIDTH;

/**
 * A fixed-width hex field for output: numbers are written in decimal, strings kept as given, both
 * left-padded with zeros to the field width. Throws RangeError when the result is not all hex
 * digits of exactly that width (too long, negative, fractional, other characters).
 */
export function toFixedField(name: FixedFieldName, value: string | number): string {
  const width = FIELD_WIDTH[name];
  const text = String(value).padStart(width, '0');
  if (!new RegExp(`^${HEX_DIGIT}{${width}}$`).test(text)) {
    throw new RangeError(`Contact ID ${name} must be ${width} hex digits, got ${JSON.stringify(value)}`);
  }
  return text;
}

/** Input text quoted for an error message, cut short so a huge input cannot flood the log. */
export function quoteForError(text: string, maxLength = 40): string {
  const shown = text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
  return JSON.stringify(shown);
}
