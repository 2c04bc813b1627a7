/**
 * What the operator console shows of the flow, kept in memory and bounded: per-minute counters for the last hour,
 * per-account last seen / peer / events today with a ring of recent events and raw frames, and subscribers for the
 * live stream. The pipeline calls it where it already counts metrics (`ActivityObserver`); nothing here is durable
 * (a restart starts the chart and the rings empty; last-seen times survive in supervision's state file).
 */
import { isoOf } from '../../iso-time.js';
import type { MappedEvent, SourceFrame } from '../../mapper/index.js';
import type { PartnerEventStatus } from '../../sink/types.js';

/** What the pipeline reports; every call is cheap (a few counters, one ring slot). */
export interface ActivityObserver {
  /** A DC-09 frame answered (or ignored): reply kind and reason as `decideReply` or the durable log decided. */
  frame(frame: FrameActivity): void;
  /** One event of a frame mapped (forwarded or not). */
  event(event: MappedEvent, source: SourceFrame): void;
}

export interface FrameActivity {
  at: Date;
  peer: string;
  transport: 'tcp' | 'udp';
  /** Null when the frame did not get as far as naming one. */
  account: string | null;
  reply: 'ACK' | 'NAK' | 'DUH' | 'none';
  reason: string;
  bytes: Buffer;
}

/** One minute of the chart. */
export interface MinuteCounts {
  /** Start of the minute, ms since the epoch. */
  at: number;
  frames: number;
  events: number;
  rejected: number;
}

/** An event as the console shows it: no body, no media (a snapshot URL can hold credentials). */
export interface EventSummary {
  kind: 'event';
  at: string;
  account: string;
  eventId: string;
  code: string;
  description: string;
  category: string;
  zone: string | null;
  forwarded: boolean;
  /** The Partner API event type, or why it was not forwarded. */
  outcome: string;
  configKey: string | null;
  peer: string | null;
}

export interface RejectionSummary {
  kind: 'rejection';
  at: string;
  account: string | null;
  peer: string;
  transport: 'tcp' | 'udp';
  reply: FrameActivity['reply'];
  reason: string;
}

export type LiveItem = EventSummary | RejectionSummary;

export interface RecentFrame {
  at: Date;
  peer: string;
  reply: FrameActivity['reply'];
  reason: string;
  bytes: Buffer;
}

export interface AccountActivity {
  account: string;
  lastSeen: Date | null;
  peer: string | null;
  eventsToday: number;
  /** Newest last. */
  events: EventSummary[];
  frames: RecentFrame[];
}

export interface ActivityLimits {
  /** Recent events kept per account. */
  eventsPerAccount: number;
  /** Recent raw frames kept per account. */
  framesPerAccount: number;
  /** Accounts tracked at most (accepted unknown accounts can be many); the least recently active go first, 1 % at a time. */
  accounts: number;
}

const MINUTE_MS = 60_000;
export const CHART_MINUTES = 60;
/** DC-09 frames are a few hundred bytes; a longer one is kept cut (the console shows it as it is, undecodable). */
const MAX_FRAME_BYTES_KEPT = 2048;
const DEFAULT_LIMITS: ActivityLimits = { eventsPerAccount: 50, framesPerAccount: 20, accounts: 10_000 };

interface AccountState {
  lastSeen: Date | null;
  peer: string | null;
  day: string;
  eventsToday: number;
  events: EventSummary[];
  frames: StoredFrame[];
  /** `touches` when this account was last recorded: the least recent go first at the cap. */
  touchedAt: number;
}

/**
 * A kept frame as stored: its bytes as a latin1 string (one object, byte for byte) rather than a Buffer, turned back
 * into a `RecentFrame` only when asked. Every kept frame outlives many garbage collections (docs/performance.md §3).
 */
interface StoredFrame {
  at: Date;
  peer: string;
  reply: FrameActivity['reply'];
  reason: string;
  bytes: string;
}

/** What the console shows as a forwarded event's outcome: one text per status and type, not one built per event. */
const FORWARDED_OUTCOMES: Record<PartnerEventStatus, Map<string, string>> = { active: new Map(), inactive: new Map() };
function forwardedOutcome(type: string, status: PartnerEventStatus): string {
  const byType = FORWARDED_OUTCOMES[status];
  let text = byType.get(type);
  if (text === undefined) {
    text = `${type} ${status}`;
    byType.set(type, text);
  }
  return text;
}

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

function pushBounded<T>(ring: T[], item: T, max: number): void {
  ring.push(item);
  while (ring.length > max) ring.shift();
}

export function summarizeEvent(event: MappedEvent, source: SourceFrame): EventSummary {
  const p = event.panelEvent;
  return {
    kind: 'event',
    at: isoOf(source.receivedAt),
    account: event.account,
    eventId: event.forwarded ? event.body.event_id : event.eventId,
    code: p.protocol === 'cid' ? `${p.qualifier}${p.code}` : p.code,
    description: p.description,
    category: p.category,
    zone: p.protocol === 'cid' ? p.zone : p.address || null,
    forwarded: event.forwarded,
    outcome: event.forwarded ? forwardedOutcome(event.body.event_type, event.body.event_status) : event.reason,
    configKey: event.forwarded ? null : (event.configKey ?? null),
    peer: source.peer,
  };
}

export class ActivityRecorder implements ActivityObserver {
  private readonly minutes: MinuteCounts[] = [];
  private readonly accounts = new Map<string, AccountState>();
  private readonly subscribers = new Set<(item: LiveItem) => void>();
  private readonly limits: ActivityLimits;
  private touches = 0;

  constructor(limits: Partial<ActivityLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  frame(frame: FrameActivity): void {
    const minute = this.minute(frame.at);
    minute.frames += 1;
    const rejected = frame.reply === 'NAK' || frame.reply === 'DUH';
    if (rejected) minute.rejected += 1;
    if (frame.account !== null) {
      const state = this.account(frame.account, frame.at);
      // Only an ACKed frame proves the account is there (a NAKed one may carry any account number).
      // The peer text the account already holds when it is the same: one string kept, not one per frame.
      const peer = frame.peer === state.peer ? state.peer : frame.peer;
      if (frame.reply === 'ACK') {
        state.lastSeen = frame.at;
        state.peer = peer;
      }
      // A copy: the frame may be a view into a large socket chunk, which the ring would otherwise keep alive.
      const bytes = frame.bytes.toString('latin1', 0, MAX_FRAME_BYTES_KEPT);
      pushBounded(state.frames, { at: frame.at, peer, reply: frame.reply, reason: frame.reason, bytes }, this.limits.framesPerAccount);
    }
    if (rejected && this.subscribers.size > 0) {
      this.publish({
        kind: 'rejection',
        at: frame.at.toISOString(),
        account: frame.account,
        peer: frame.peer,
        transport: frame.transport,
        reply: frame.reply,
        reason: frame.reason,
      });
    }
  }

  event(event: MappedEvent, source: SourceFrame): void {
    this.minute(source.receivedAt).events += 1;
    const summary = summarizeEvent(event, source);
    const state = this.account(event.account, source.receivedAt);
    const day = utcDay(source.receivedAt);
    if (state.day !== day) {
      state.day = day;
      state.eventsToday = 0;
    }
    state.eventsToday += 1;
    if (summary.peer !== null && summary.peer === state.peer) summary.peer = state.peer;
    pushBounded(state.events, summary, this.limits.eventsPerAccount);
    this.publish(summary);
  }

  /** The last hour, one entry per minute, oldest first, minutes without traffic as zeros. */
  series(now: Date = new Date()): MinuteCounts[] {
    const current = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
    const byStart = new Map(this.minutes.map((m) => [m.at, m]));
    const out: MinuteCounts[] = [];
    for (let i = CHART_MINUTES - 1; i >= 0; i--) {
      const at = current - i * MINUTE_MS;
      out.push({ ...(byStart.get(at) ?? { at, frames: 0, events: 0, rejected: 0 }) });
    }
    return out;
  }

  /** One account's activity (null when nothing was recorded for it since start). */
  accountActivity(account: string, now: Date = new Date()): AccountActivity | null {
    const state = this.accounts.get(account.toUpperCase());
    if (!state) return null;
    return {
      account: account.toUpperCase(),
      lastSeen: state.lastSeen,
      peer: state.peer,
      eventsToday: state.day === utcDay(now) ? state.eventsToday : 0,
      events: [...state.events],
      frames: state.frames.map((f) => ({
        at: f.at,
        peer: f.peer,
        reply: f.reply,
        reason: f.reason,
        bytes: Buffer.from(f.bytes, 'latin1'),
      })),
    };
  }

  /** Every account seen since start, upper-cased. */
  accountNames(): string[] {
    return [...this.accounts.keys()];
  }

  /** Calls `listener` with each event and rejection from now on; returns the unsubscribe function. */
  subscribe(listener: (item: LiveItem) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  private publish(item: LiveItem): void {
    for (const listener of this.subscribers) listener(item);
  }

  private minute(at: Date): MinuteCounts {
    const start = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
    const last = this.minutes[this.minutes.length - 1];
    if (last && last.at === start) return last;
    // A clock that stepped back lands in an earlier minute: find it rather than open a second entry for it.
    const earlier = this.minutes.find((m) => m.at === start);
    if (earlier) return earlier;
    const created = { at: start, frames: 0, events: 0, rejected: 0 };
    this.minutes.push(created);
    this.minutes.sort((a, b) => a.at - b.at);
    if (this.minutes.length > CHART_MINUTES) this.minutes.splice(0, this.minutes.length - CHART_MINUTES);
    return created;
  }

  private account(account: string, at: Date): AccountState {
    const key = account.toUpperCase();
    let state = this.accounts.get(key);
    if (!state) {
      if (this.accounts.size >= this.limits.accounts) this.forgetLeastRecent();
      state = { lastSeen: null, peer: null, day: utcDay(at), eventsToday: 0, events: [], frames: [], touchedAt: 0 };
      this.accounts.set(key, state);
    }
    // Recency is a number, not the map's order: moving the account to the end on every frame rebuilt the map's table
    // over and over (docs/performance.md §3).
    state.touchedAt = ++this.touches;
    return state;
  }

  /** At the cap: forgets the least recently active 1 % of the accounts (at least one), so that the walk is rare. */
  private forgetLeastRecent(): void {
    const drop = Math.max(1, Math.floor(this.accounts.size / 100));
    const oldest = [...this.accounts].sort((a, b) => a[1].touchedAt - b[1].touchedAt);
    for (let i = 0; i < drop; i++) this.accounts.delete(oldest[i]![0]);
  }
}
