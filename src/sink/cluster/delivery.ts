/**
 * Delivery in cluster mode (docs/cluster.md §5): while this instance holds the lease it reads the events stream
 * through the durable pull consumer `delivery` (explicit ack) and delivers through the shared per-account scheduler,
 * like the outbox: per account in order, accounts in parallel, backoff with Retry-After, `cluster.maxAgeHours`.
 * A final outcome (accepted, discarded, refused for good, too old: the last two after the dead letter is stored) is
 * acknowledged, and work-queue retention removes the message. Each term of the lease starts from a fresh consumer,
 * so every unacknowledged message comes again at once; held messages are kept from redelivery by "working"
 * heartbeats within the consumer's ack wait. Losing the lease stops the scheduler and the consumer at once; what is
 * not acknowledged stays for the next holder, with its event_id.
 */
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';

import { describeError, type Logger } from '../../log.js';
import type { DeadLetter } from '../outbox/dead-letters.js';
import { nextRetryIn, type RetryPolicy } from '../retry.js';
import { AccountScheduler, type Step } from '../scheduler.js';
import type { DeliveryOutcome, OutgoingEvent, Sink } from '../types.js';
import type { ClusterRuntime } from './runtime.js';
import type { ClusterDeadLetters } from './dead-letters.js';
import { decodeEventMessage, type Accounts } from './event-message.js';
import { DeliveryLease, type LeaseOptions } from './lease.js';
import type { OwnEvents } from './own-events.js';

/** How long JetStream waits for an acknowledgement before redelivering; held messages are marked working well within it. */
export const ACK_WAIT_MS = 60_000;
const WORKING_EVERY_MS = ACK_WAIT_MS / 3;
/** Messages held unacknowledged at most (what the scheduler may hold across accounts waiting out a backoff). */
export const MAX_HELD = 50_000;
/** A failed consumer set-up (NATS unreachable) is tried again after this while the lease is still held. */
const SETUP_RETRY_MS = 1_000;
const NANOS_PER_MS = 1_000_000;
/** How long deliveries under way may finish when a term ends. */
const CLOSE_GRACE_MS = 5_000;

export interface ClusterDeliveryOptions {
  sink: Sink;
  logger: Logger;
  /** Deliveries in flight at once, over all accounts. */
  concurrency: number;
  dead: ClusterDeadLetters;
  /** The accounts in force, which a stored camera source is resolved against at delivery (docs/cluster.md §3). */
  accounts?: () => Accounts;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  /** The lease's timings (tests shorten them). */
  lease?: Pick<LeaseOptions, 'leaseMs' | 'renewMs' | 'checkMs'>;
  /** How long `close` (or a new term) lets the last term's deliveries in flight finish (default 5 s). */
  closeGraceMs?: number;
  /** The events this instance stored itself, taken as mapped instead of decoded from the stream. */
  ownEvents?: OwnEvents | null;
}

/** One message held by the scheduler until its final outcome. */
interface Held {
  seq: number;
  msg: JsMsg;
  account: string;
  id: string;
  event: OutgoingEvent | null;
  acceptedAt: number;
  attempts: number;
  lastReason: string | null;
  /** Set once the outcome is a dead letter: stored before the message is acknowledged (tried again on failure). */
  letter: DeadLetter | null;
}

/**
 * The event as the cluster log stores it (docs/cluster.md §3), its camera source resolved against `accounts`, or why
 * the message is not one.
 */
export function decodeStoredEvent(data: Uint8Array, accounts: Accounts = {}): OutgoingEvent | string {
  const decoded = decodeEventMessage(data, accounts);
  return decoded.ok ? decoded.event : decoded.error;
}

const DELIVERED: Step = { kind: 'done', delivered: true };
const DONE: Step = { kind: 'done' };
const iso = (ms: number) => new Date(ms).toISOString();

/** Starts competing for the lease and delivering while it is held; `close` stops both and releases the lease. */
export function startClusterDelivery(runtime: ClusterRuntime, options: ClusterDeliveryOptions): { close(): Promise<void> } {
  const delivery = new ClusterDelivery(runtime, options);
  const lease = new DeliveryLease({
    kv: runtime.stores.state,
    instance: runtime.config.instance,
    role: runtime.role,
    logger: options.logger,
    ...options.lease,
  });
  lease.start();
  return {
    async close() {
      // Delivery stops before the lease is released: two instances never deliver at once.
      await delivery.close();
      await lease.stop();
    },
  };
}

/** Follows the role: each time this instance becomes the deliverer it starts a term; standby ends it. */
export class ClusterDelivery {
  private term: DeliveryTerm | null = null;
  /** The last term ended: a new one waits for its deliveries under way, so this instance never sends one event twice at once. */
  private ended: DeliveryTerm | null = null;
  private generation = 0;
  private closed = false;

  constructor(
    private readonly runtime: ClusterRuntime,
    private readonly options: ClusterDeliveryOptions,
  ) {
    runtime.role.onChange((role) => (role === 'delivering' ? this.begin() : this.end()));
    if (runtime.role.delivering) this.begin();
  }

  /** Stops delivering; deliveries in flight finish within the grace time (their outcomes are still acknowledged). */
  async close(): Promise<void> {
    this.closed = true;
    const term = this.term;
    this.end();
    await term?.idle(this.options.closeGraceMs ?? CLOSE_GRACE_MS);
  }

  private begin(): void {
    if (this.closed) return;
    this.end();
    const generation = ++this.generation;
    void this.run(generation);
  }

  private end(): void {
    this.generation++;
    if (this.term) this.ended = this.term;
    this.term?.stop();
    this.term = null;
  }

  private current(generation: number): boolean {
    return generation === this.generation && !this.closed;
  }

  private async run(generation: number): Promise<void> {
    const { logger } = this.options;
    // A term ends by `end` (the generation moves on) or by the consumer failing: then a fresh one is made.
    await this.ended?.idle(this.options.closeGraceMs ?? CLOSE_GRACE_MS);
    while (this.current(generation)) {
      try {
        // Messages are handed over by callback (no promise per message); any that arrive before the term exists wait.
        const early: JsMsg[] = [];
        let take = (msg: JsMsg): void => void early.push(msg);
        const messages = await this.freshConsumer((msg) => take(msg));
        if (!this.current(generation)) return void messages.stop();
        const term = new DeliveryTerm(this.runtime, this.options, messages);
        this.term = term;
        take = (msg) => term.take(msg);
        for (const msg of early) term.take(msg);
        logger.info({ instance: this.runtime.config.instance }, 'cluster: delivering from the events stream');
        await this.term.consume();
      } catch (err) {
        if (!this.current(generation)) return;
        logger.warn({ err: describeError(err) }, 'cluster: could not read the events stream; starting again');
      }
      if (!this.current(generation)) return;
      this.term?.stop();
      this.term = null;
      await new Promise((resolve) => setTimeout(resolve, SETUP_RETRY_MS));
    }
  }

  /**
   * Deletes and recreates the consumer: a new one starts at the stream's first message, so the messages the last
   * holder had taken and not acknowledged come again now rather than after their ack wait.
   */
  private async freshConsumer(callback: (msg: JsMsg) => void): Promise<ConsumerMessages> {
    const { AckPolicy, DeliverPolicy } = await import('@nats-io/jetstream');
    const { jsm, js } = this.runtime.connection;
    const { events, consumer } = this.runtime.stores.names;
    await jsm.consumers.delete(events, consumer).catch((err: { code?: unknown }) => {
      if (err.code !== CONSUMER_NOT_FOUND) throw err;
    });
    await jsm.consumers.add(events, {
      durable_name: consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ACK_WAIT_MS * NANOS_PER_MS,
      max_ack_pending: MAX_HELD,
      max_deliver: -1,
    });
    return (await js.consumers.get(events, consumer)).consume({ max_messages: 256, callback });
  }
}

/** JetStream's "consumer not found". */
const CONSUMER_NOT_FOUND = 10014;

/** One lease term's delivery: the messages taken from the consumer, held by the scheduler until their outcome. */
class DeliveryTerm {
  private readonly held = new Map<number, Held>();
  private readonly scheduler: AccountScheduler<Held>;
  private readonly retry: RetryPolicy;
  private readonly working: NodeJS.Timeout;
  private readonly logger: Logger;
  /** Settled messages whose acknowledgements go out together at the end of this turn (one socket write). */
  private acks: JsMsg[] = [];

  constructor(
    private readonly runtime: ClusterRuntime,
    private readonly options: ClusterDeliveryOptions,
    private readonly messages: ConsumerMessages,
  ) {
    this.logger = options.logger;
    this.retry = {
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      maxAgeMs: runtime.config.maxAgeHours * 3_600_000,
      random: options.random ?? Math.random,
    };
    this.scheduler = new AccountScheduler<Held>({
      concurrency: options.concurrency,
      account: (h) => h.account,
      attempt: (h) => this.attempt(h),
      crashed: (h, err) => {
        this.logger.error({ account: h.account, event_id: h.id, err: describeError(err) }, 'cluster delivery worker failed');
        return { kind: 'retry', afterMs: 1000 };
      },
      logger: this.logger,
    });
    this.scheduler.start();
    this.working = setInterval(() => {
      for (const h of this.held.values()) h.msg.working();
    }, WORKING_EVERY_MS);
  }

  /** Resolves when the term's consumer stops; rejects when it failed. */
  async consume(): Promise<void> {
    const err = await this.messages.closed();
    if (err) throw err;
  }

  stop(): void {
    this.sendAcks();
    clearInterval(this.working);
    this.scheduler.stop();
    this.messages.stop();
  }

  async idle(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.scheduler.whenIdle(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  take(msg: JsMsg): void {
    const known = this.held.get(msg.seq);
    if (known) {
      // Redelivered while held (an ack wait passed unmarked): the newest delivery is the one to acknowledge.
      known.msg = msg;
      return;
    }
    const event = this.options.ownEvents?.take(msg.seq) ?? decodeStoredEvent(msg.data, this.options.accounts?.() ?? {});
    const acceptedAt = msg.info.timestampNanos / NANOS_PER_MS;
    const h: Held =
      typeof event === 'string'
        ? { seq: msg.seq, msg, account: '', id: `seq ${msg.seq}`, event: null, acceptedAt, attempts: 0, lastReason: null, letter: null }
        : {
            seq: msg.seq,
            msg,
            account: event.account,
            id: event.body.event_id,
            event,
            acceptedAt,
            attempts: 0,
            lastReason: null,
            letter: null,
          };
    if (typeof event === 'string') {
      this.logger.error(
        { seq: msg.seq, subject: msg.subject, reason: event },
        'cluster: a stored message is not an event; moved to the dead letters',
      );
      h.letter = this.letter(h, 'unreadable', `stream message ${msg.seq} on ${msg.subject}: ${event}`);
    }
    this.held.set(msg.seq, h);
    this.scheduler.add(h);
  }

  /** One delivery attempt of an account's head event. */
  private async attempt(h: Held): Promise<Step> {
    if (h.letter) return this.bury(h);
    if (Date.now() - h.acceptedAt >= this.retry.maxAgeMs) {
      h.letter = this.letter(h, 'max-age', this.maxAgeDetail(h));
      return this.bury(h);
    }
    h.attempts++;
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.options.sink.deliver(h.event!);
    } catch (err) {
      outcome = { kind: 'retry', reason: `sink failed: ${describeError(err)}` };
    }
    switch (outcome.kind) {
      case 'accepted':
        this.settle(h);
        return DELIVERED;
      case 'discarded':
        this.settle(h);
        return DONE;
      case 'permanent':
        h.letter = this.letter(h, 'permanent', outcome.reason, outcome.status, outcome.response);
        return this.bury(h);
      case 'retry':
        return this.backoff(h, outcome);
    }
  }

  private backoff(h: Held, outcome: Extract<DeliveryOutcome, { kind: 'retry' }>): Step | Promise<Step> {
    h.lastReason = outcome.reason;
    const wait = nextRetryIn(this.retry, outcome, h.attempts, Date.now(), h.acceptedAt);
    if (wait === null) {
      h.letter = this.letter(h, 'max-age', this.maxAgeDetail(h));
      return this.bury(h);
    }
    return { kind: 'retry', afterMs: wait, failure: { reason: outcome.reason, attempts: h.attempts } };
  }

  private maxAgeDetail(h: Held): string {
    const last = h.lastReason ? `; last failure: ${h.lastReason}` : '';
    return `not delivered within maxAgeHours (${this.runtime.config.maxAgeHours} h) after ${h.attempts} attempt(s)${last}`;
  }

  private letter(h: Held, reason: 'permanent' | 'max-age' | 'unreadable', detail: string, status?: number, response?: unknown): DeadLetter {
    this.logger.warn(
      { event_id: h.id, account: h.account, reason, detail, status, attempts: h.attempts },
      'cluster: event moved to the dead letters',
    );
    return {
      id: h.id,
      account: h.account,
      reason,
      detail,
      ...(status !== undefined ? { status } : {}),
      ...(response !== undefined ? { response } : {}),
      deadAt: iso(Date.now()),
      acceptedAt: iso(h.acceptedAt),
      attempts: h.attempts,
      seq: h.seq,
      ...(h.event ? { event: h.event } : {}),
    };
  }

  /** Stores the dead letter, then acknowledges; a failed store is tried again (the message stays meanwhile). */
  private async bury(h: Held): Promise<Step> {
    try {
      await this.options.dead.append([h.letter!]);
    } catch (err) {
      this.logger.error({ event_id: h.id, account: h.account, err: describeError(err) }, 'cluster: dead letter not stored; will retry');
      return { kind: 'retry', afterMs: 5_000, failure: { reason: `dead letter not stored: ${describeError(err)}`, attempts: h.attempts } };
    }
    this.settle(h);
    return DONE;
  }

  /** The final outcome is known (and any dead letter stored): the stream may forget the message. */
  private settle(h: Held): void {
    this.held.delete(h.seq);
    if (this.acks.push(h.msg) === 1) setImmediate(this.sendAcks);
  }

  private readonly sendAcks = (): void => {
    const acks = this.acks;
    this.acks = [];
    for (const msg of acks) msg.ack();
  };
}
