/**
 * Splitting glued records. docs/surgard.md §1: a sender that gets no ACK repeats the record (EBS OSM every
 * 15 s), and the copies can arrive glued together without terminators, so they are split on the record
 * pattern: the text is cut into consecutive pieces that each decode as a record on their own.
 */
import { CID_MAX_LENGTH, CID_MIN_LENGTH, HEARTBEAT_AT, isFill, SIA_AT } from './fields.js';
import { parseSurgardRecord } from './parse.js';

const decodes = (text: string, start: number, end: number): boolean => parseSurgardRecord(text.slice(start, end)).ok;

/**
 * Ends of the records that can start at `start`, shortest first. A heartbeat and a SIA record have one
 * possible end; a Contact ID record is tried at every length from the shortest to the longest layout.
 */
function recordEndsAt(text: string, start: number): number[] {
  const first = text.charAt(start);
  if (first === '1' || first === 'S') {
    const pattern = first === '1' ? HEARTBEAT_AT : SIA_AT;
    pattern.lastIndex = start;
    if (!pattern.test(text)) return [];
    const end = pattern.lastIndex;
    return decodes(text, start, end) ? [end] : [];
  }
  if (first !== '5') return [];
  const ends: number[] = [];
  const last = Math.min(text.length, start + CID_MAX_LENGTH);
  for (let end = start + CID_MIN_LENGTH; end <= last; end++) {
    if (decodes(text, start, end)) ends.push(end);
  }
  return ends;
}

function skipFill(text: string, at: number): number {
  while (at < text.length && isFill(text.charCodeAt(at))) at++;
  return at;
}

/**
 * docs/surgard.md §1: the glued records are retry copies. Start offsets of the copies of one record that make
 * up the whole of `text` (fill between them allowed, leading fill skipped), or null when the text is not two
 * or more copies. Tried first because it settles runs that could also be cut elsewhere, e.g. a 5-digit
 * account whose first 20 characters read as a record of their own. Safe on a buffer whose last record is
 * still arriving: a partial copy never makes the text a whole number of copies.
 */
export function retryCopyStarts(text: string): number[] | null {
  const first = skipFill(text, 0);
  for (const end of recordEndsAt(text, first)) {
    const unit = text.slice(first, end);
    const starts: number[] = [];
    let at = first;
    while (at < text.length && text.startsWith(unit, at)) {
      starts.push(at);
      at = skipFill(text, at + unit.length);
    }
    if (at >= text.length && starts.length > 1) return starts;
  }
  return null;
}

/**
 * Start offsets of the records that make up the whole of `text` (fill between them allowed, leading fill
 * skipped), or null when the text cannot be cut into records that all decode. Copies of one record first;
 * otherwise depth-first, shortest record first, with the dead ends remembered; iterative so that a long
 * run of records cannot exhaust the stack. Only for complete text (a terminated record): on a buffer whose
 * last record is partial, a record and the start of the next can read as two other records.
 */
function gluedRecordStarts(text: string): number[] | null {
  let start = skipFill(text, 0);
  if (start >= text.length) return null;
  const copies = retryCopyStarts(text);
  if (copies !== null) return copies;

  const deadStarts = new Set<number>();
  const stack: { start: number; ends: number[]; next: number }[] = [];
  for (;;) {
    if (start >= text.length) return stack.map((frame) => frame.start);
    if (!deadStarts.has(start)) stack.push({ start, ends: recordEndsAt(text, start), next: 0 });
    // Advance the deepest frame that still has an untried end; frames without one are dead ends.
    let advanced = false;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.ends.length) {
        start = skipFill(text, top.ends[top.next++]!);
        advanced = true;
        break;
      }
      deadStarts.add(top.start);
      stack.pop();
    }
    if (!advanced) return null;
  }
}

/**
 * Cuts glued records apart: `5011 181234E130010155011 181234E13001015` gives two records. Text that is one
 * record, or that cannot be cut into records that all decode, comes back whole (one element) so that the
 * caller NAKs and logs it verbatim. Fill between records stays at the end of the piece before it.
 */
export function splitGlued(text: string): string[] {
  if (parseSurgardRecord(text).ok) return [text];
  const starts = gluedRecordStarts(text);
  if (starts === null || starts.length < 2) return [text];
  return starts.map((start, i) => text.slice(i === 0 ? 0 : start, starts[i + 1] ?? text.length));
}
