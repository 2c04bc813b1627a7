/**
 * SIA DCS (DC-03) data-block decoder: the text inside the DC-09 data brackets of a `SIA-DCS` message,
 * already decrypted, into events (docs/sia-dcs.md §1 grammar, docs/dc09.md §8 wrappers).
 *
 *   data     := [ '#' acct '|' | '|' ] [ 'N' | 'O' ] item ( '/' item )* [ '|A' text ]
 *   item     := modifier* [ code addr [ '^' text '^' ] ]
 *   modifier := [a-z]{2} [0-9:-]+ [ '^' area-name '^' ]
 *   code     := [A-Z]{2}      addr := [0-9A-Za-z]*
 *
 * A hand-written scanner over char codes: no regular expressions, one pass (two at most, see
 * `parseSiaData`), and it never throws — anything off-grammar comes back as `{ ok: false }`.
 */
import { parseAllowingBareAccount, readAccountWrapper } from '../account-wrapper.js';
import type { DataDecodeResult, SiaEvent } from '../events.js';
import { lookupSiaCode } from './codes.js';

const QUOTE = 0x27; // '
const STAR = 0x2a; // *
const DASH = 0x2d; // -
const SLASH = 0x2f; // /
const COLON = 0x3a; // :
const UPPER_A = 0x41;
const UPPER_N = 0x4e;
const UPPER_O = 0x4f;
const CARET = 0x5e; // ^
const BAR = 0x7c; // |

// charCodeAt past the end gives NaN, which every class below rejects: the scanner needs no bounds checks.
const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlphanumeric = (c: number): boolean => isDigit(c) || isUpper(c) || isLower(c);
const isModifierValueChar = (c: number): boolean => isDigit(c) || c === COLON || c === DASH;

type FunctionLetter = SiaEvent['function'];

/** Modifiers that name the area (docs/sia-dcs.md §1: `ri`, and `pi` where panels use it in its place). */
const AREA_TAGS: ReadonlySet<string> = new Set(['ri', 'pi']);
type ScanOutcome = { events: SiaEvent[] } | { error: string };

/**
 * Decodes one DC-03 data block. Empty data is a valid block without events; an account without its `#` is
 * tolerated (docs/dc09.md §7, see parseAllowingBareAccount).
 */
export function parseSiaData(raw: string): DataDecodeResult {
  if (typeof raw !== 'string') return { ok: false, account: null, error: 'SIA data is not a string' };
  return parseAllowingBareAccount(raw, parseBlock);
}

function parseBlock(raw: string): DataDecodeResult {
  // Trailing blanks after the last event (`Nri1/BA01/BA02 `) are padding, not a grammar error — unless they
  // belong to a `|A` text block, which keeps its text as sent.
  const data = raw.includes('|A') ? raw : raw.trimEnd();
  const wrapper = readAccountWrapper(data);
  if ('error' in wrapper) return { ok: false, account: null, error: wrapper.error };
  const { account, bodyStart } = wrapper;

  const first = data.charCodeAt(bodyStart);
  let outcome: ScanOutcome;
  if (first === UPPER_N || first === UPPER_O) {
    // docs/sia-dcs.md §1: the function letter is optional and `NNL2` is N + NL2, so a leading N/O is read
    // as the function first; only when that leaves no valid block is it re-read as the first letter of an
    // event code (`NL2`, `OP1` sent without a function letter). The first reading's error is reported.
    outcome = scanItems(data, bodyStart + 1, first === UPPER_N ? 'N' : 'O');
    if ('error' in outcome) {
      const withoutFunction = scanItems(data, bodyStart, 'N');
      if (!('error' in withoutFunction)) outcome = withoutFunction;
    }
  } else {
    // docs/dc09.md §8: `[Nri1/WA000]`-style data may also lack the function letter; N is the default.
    outcome = scanItems(data, bodyStart, 'N');
  }
  return 'error' in outcome ? { ok: false, account, error: outcome.error } : { ok: true, account, events: outcome.events };
}

/** Scans `item ( '/' item )* [ '|A' text ]` from `start` to the end of `data`. */
function scanItems(data: string, start: number, functionLetter: FunctionLetter): ScanOutcome {
  const events: SiaEvent[] = [];
  // docs/sia-dcs.md §1: a modifier stays in force for the following events of the block. Once an event
  // holds the record it is copied before the next change (events under the same modifiers share it).
  let modifiers: Record<string, string> = {};
  let modifiersHeldByEvent = false;
  let areaText: string | null = null;
  /** Offset of an area name no event has used yet: a name with no event to belong to is not data (an error). */
  let unusedNameAt = -1;
  let i = start;

  for (;;) {
    // docs/sia-dcs.md §1: any number of modifiers; the '/' after a modifier is optional because a
    // modifier-only item is itself allowed (`Nri1/CL501` and `Nri1CL0` both occur).
    while (isLower(data.charCodeAt(i))) {
      if (!isLower(data.charCodeAt(i + 1))) {
        return { error: `expected a two-letter lower-case modifier tag at offset ${i}` };
      }
      const valueStart = i + 2;
      let valueEnd = valueStart;
      while (isModifierValueChar(data.charCodeAt(valueEnd))) valueEnd++;
      const tag = data.slice(i, valueStart);
      if (valueEnd === valueStart) {
        return { error: `modifier "${tag}" at offset ${i} has no value (digits, ":" or "-")` };
      }
      if (modifiersHeldByEvent) {
        modifiers = { ...modifiers };
        modifiersHeldByEvent = false;
      }
      modifiers[tag] = data.slice(valueStart, valueEnd);
      i = valueEnd;
      // Field dialect (docs/sia-dcs.md §1 text, placed after a modifier): `Nri01^AREA NAME^/LX901^text^` names the
      // area; a new area modifier without text drops the previous name. Text after other modifiers is skipped.
      const namesArea = AREA_TAGS.has(tag);
      if (namesArea) areaText = null;
      if (data.charCodeAt(i) === CARET) {
        const close = data.indexOf('^', i + 1);
        if (close < 0) return { error: `text opened by "^" at offset ${i} is never closed` };
        if (namesArea) areaText = data.slice(i + 1, close);
        unusedNameAt = i;
        i = close + 1;
      }
    }

    if (isUpper(data.charCodeAt(i))) {
      const event = scanEvent(data, i, functionLetter, modifiers, areaText);
      if ('error' in event) return event;
      events.push(event.event);
      modifiersHeldByEvent = true;
      unusedNameAt = -1;
      i = event.end;
    }

    const next = data.charCodeAt(i);
    if (unusedNameAt >= 0 && (i >= data.length || next === BAR)) {
      return { error: `text after a modifier at offset ${unusedNameAt} is not followed by an event` };
    }
    if (i >= data.length) return { events };
    if (next === SLASH) {
      i++;
      continue;
    }
    if (next === BAR) {
      // docs/dc09.md §8: `|A<text>` closes the block; its text belongs to every event without its own.
      if (data.charCodeAt(i + 1) !== UPPER_A) {
        return { error: `expected "A" (ASCII text block) after "|" at offset ${i}` };
      }
      applyBlockText(events, data.slice(i + 2));
      return { events };
    }
    return { error: `unexpected ${describeChar(data, i)} at offset ${i}: expected "/", "|A" or end of data` };
  }
}

type EventOutcome = { event: SiaEvent; end: number } | { error: string };

/** Scans `code addr [ '^' text '^' ]` at `start`, which holds an upper-case letter. */
function scanEvent(
  data: string,
  start: number,
  functionLetter: FunctionLetter,
  modifiers: Record<string, string>,
  areaText: string | null,
): EventOutcome {
  if (!isUpper(data.charCodeAt(start + 1))) {
    return { error: `event code at offset ${start} must be two upper-case letters` };
  }
  const code = data.slice(start, start + 2);
  let i = start + 2;
  // docs/sia-dcs.md §1: the address length varies and may be empty; it is kept verbatim.
  while (isAlphanumeric(data.charCodeAt(i))) i++;
  const address = data.slice(start + 2, i);

  // docs/sia-dcs.md §1: `^text^` after the address; XSIA-style panels delimit the same text with `*`, or write it
  // `*'text'NM` (a quoted text and a two-letter attribute tag).
  let text: string | null = null;
  const delimiter = data.charCodeAt(i);
  if (delimiter === CARET || delimiter === STAR) {
    const close = data.indexOf(data.charAt(i), i + 1);
    const quoted = close < 0 && delimiter === STAR ? quotedXsiaText(data, i) : null;
    if (quoted) {
      text = quoted.text;
      i = quoted.end;
    } else if (close < 0) {
      return { error: `text opened by ${describeChar(data, i)} at offset ${i} is never closed` };
    } else {
      text = data.slice(i + 1, close);
      i = close + 1;
    }
  }

  const event = buildEvent(code, address, text, functionLetter, modifiers);
  if (areaText !== null) event.areaText = areaText;
  return { event, end: i };
}

/** `*'text'XX` at `star`: the text and the offset after the tag, or null when it is not that form. */
function quotedXsiaText(data: string, star: number): { text: string; end: number } | null {
  if (data.charCodeAt(star + 1) !== QUOTE) return null;
  const close = data.indexOf("'", star + 2);
  if (close < 0 || !isUpper(data.charCodeAt(close + 1)) || !isUpper(data.charCodeAt(close + 2))) return null;
  return { text: data.slice(star + 2, close), end: close + 3 };
}

function buildEvent(
  code: string,
  address: string,
  text: string | null,
  functionLetter: FunctionLetter,
  modifiers: Record<string, string>,
): SiaEvent {
  const info = lookupSiaCode(code);
  return {
    protocol: 'sia',
    code,
    address,
    addressKind: info?.address ?? 'zone',
    // docs/sia-dcs.md §1: `ri` is the area; Satel / Dahua / Galaxy send `pi` in its place.
    area: modifiers['ri'] ?? modifiers['pi'] ?? null,
    user: modifiers['id'] ?? null,
    modifiers,
    text,
    function: functionLetter,
    category: info?.category ?? 'unknown',
    description: info?.description ?? `Unknown SIA code ${code}`,
    known: info !== undefined,
  };
}

function applyBlockText(events: SiaEvent[], blockText: string): void {
  for (const event of events) {
    if (event.text === null) event.text = blockText;
  }
}

/** A character for an error message, quoted and escaped so control bytes stay readable. */
function describeChar(data: string, offset: number): string {
  return JSON.stringify(data.charAt(offset));
}
