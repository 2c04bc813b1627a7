/**
 * ISO 8601 texts built once where the per-frame path would build the same one again (docs/performance.md §3): the
 * current time once per millisecond (log lines, the file sink's `sent_at`), and a frame's panel time once for its
 * body, its payload and its event ids.
 */

/** The current time as ISO text, formatted once per millisecond of `Date.now()`. */
export function isoClock(): () => string {
  let lastMs = Number.NaN;
  let text = '';
  return () => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      text = new Date(ms).toISOString();
    }
    return text;
  };
}

let lastDate: Date | null = null;
let lastMs = Number.NaN;
let lastText = '';

/** `date.toISOString()`, remembered for the last Date given (the same object at the same time gives the same text). */
export function isoOf(date: Date): string {
  const ms = date.getTime();
  if (date !== lastDate || ms !== lastMs) {
    lastDate = date;
    lastMs = ms;
    lastText = date.toISOString();
  }
  return lastText;
}
