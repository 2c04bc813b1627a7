/**
 * DC-09 timestamps: `_HH:MM:SS,MM-DD-YYYY`, 24-hour, UTC, month before day (docs/dc09.md §10).
 */

export const TIMESTAMP_LENGTH = 20;

function twoDigits(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Formats with the `_` prefix, from the UTC fields (docs/dc09.md §18: never local time). */
export function formatTimestamp(date: Date): string {
  return (
    `_${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())},` +
    `${twoDigits(date.getUTCMonth() + 1)}-${twoDigits(date.getUTCDate())}-${date.getUTCFullYear()}`
  );
}

function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/**
 * Parses `_HH:MM:SS,MM-DD-YYYY` (exactly 20 characters, `_` included) starting at `at`.
 * Returns null when the shape or a field range is wrong (e.g. month 13, 31 February).
 */
export function parseTimestamp(text: string, at = 0): Date | null {
  if (text.length - at < TIMESTAMP_LENGTH) return null;
  if (
    text[at] !== '_' ||
    text[at + 3] !== ':' ||
    text[at + 6] !== ':' ||
    text[at + 9] !== ',' ||
    text[at + 12] !== '-' ||
    text[at + 15] !== '-'
  )
    return null;
  const hour = digitsAt(text, at + 1, 2);
  const minute = digitsAt(text, at + 4, 2);
  const second = digitsAt(text, at + 7, 2);
  const month = digitsAt(text, at + 10, 2);
  const day = digitsAt(text, at + 13, 2);
  const year = digitsAt(text, at + 16, 4);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 0) return null;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCDate() !== day) return null; // 31-02 and friends roll over: reject
  return date;
}
