/**
 * Publishing events to JetStream, batched per turn of the event loop (docs/cluster.md §3, docs/performance.md §7).
 *
 * A JetStream publish is a NATS message with a reply subject; the server answers on it once the message is stored
 * (a PubAck, or an API error). The client's own `js.publish` makes one request per message: a timer, a promise and
 * two Error objects each, and, since the client writes its buffer out after every microtask that published, one
 * socket write per frame when frames arrive on separate connections. Here every publish of one turn of the event
 * loop goes out together in one write (flushed by `setImmediate`), the answers come back on one subscription of
 * this publisher's own inbox, a frame's events share one promise, and one timer sweeps the expired ones.
 */
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';

/** A failed publish; `name` says what kind (docs/cluster.md §3: which of them mean the store is unavailable). */
export class PublishError extends Error {
  constructor(
    name: 'TimeoutError' | 'NoResponders' | 'ConnectionError' | 'ClosedConnectionError' | 'JetStreamApiError',
    message: string,
    /** JetStream's status code of an API error (503: no quorum, stream leader lost). */
    readonly status?: number,
  ) {
    super(message);
    this.name = name;
  }
}

/** One `publish` call: its messages share this promise, resolved when the last PubAck arrives. */
interface Batch {
  left: number;
  settled: boolean;
  deadline: number;
  /** Reply token of the batch's first message: its messages' tokens follow on (they are flushed together). */
  firstToken: number;
  /** Told each message's stream sequence as its PubAck arrives, or null. */
  stored: StoredListener | null;
  resolve(): void;
  reject(err: Error): void;
}

/** Item `index` of a `publish` call was stored as stream message `seq` (not called for a duplicate message id). */
export type StoredListener = (index: number, seq: number) => void;

/** A message waiting for the next flush, then for its PubAck. */
interface Queued {
  subject: string;
  data: Uint8Array;
  msgID: string;
  batch: Batch;
}

/** What the publisher needs of the NATS client (loaded lazily by connection.ts, so passed in). */
export interface PublisherDeps {
  nc: NatsConnection;
  /** `headers()` of the NATS client. */
  headers: () => MsgHdrs;
  /** `createInbox()` of the NATS client. */
  createInbox: () => string;
  /** False while the client reconnects: a flush then refuses at once (docs/cluster.md §3). */
  connected: () => boolean;
}

export interface PublishItem {
  subject: string;
  data: Uint8Array;
  /** JetStream's message id (`Nats-Msg-Id`): the event_id, for the duplicate window (docs/cluster.md §4). */
  msgID: string;
}

const MSG_ID_HEADER = 'Nats-Msg-Id';
const decoder = new TextDecoder();
/** How a PubAck starts: JetStream writes an error first (`{"error":…}`), so an answer starting so is a stored message. */
const PUB_ACK_START = Buffer.from('{"stream":"');

export class BatchPublisher {
  private readonly inbox: string;
  private readonly sub: Subscription;
  /** Reply token → the message sent with it; in the order published, so the oldest expire first. */
  private readonly waiting = new Map<number, Queued>();
  private queue: Queued[] = [];
  private flushScheduled = false;
  private nextToken = 0;
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly deps: PublisherDeps,
    private readonly timeoutMs: number,
  ) {
    this.inbox = deps.createInbox();
    this.sub = deps.nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => (err ? undefined : this.answered(msg)) });
    this.sweeper = setInterval(() => this.expire(Date.now()), Math.max(10, Math.min(250, timeoutMs / 4)));
    this.sweeper.unref();
  }

  /**
   * Publishes `items` in this turn's batch; resolves once JetStream stored every one of them. `stored` hears of each
   * item as its PubAck arrives (before the promise settles), with its stream sequence.
   */
  publish(items: readonly PublishItem[], stored: StoredListener | null = null): Promise<void> {
    if (this.closed) return Promise.reject(new PublishError('ClosedConnectionError', 'the publisher is closed'));
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + this.timeoutMs;
      const batch: Batch = { left: items.length, settled: false, deadline, firstToken: 0, stored, resolve, reject };
      for (const item of items) this.queue.push({ subject: item.subject, data: item.data, msgID: item.msgID, batch });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Fails every publish waiting for an answer or a flush (the connection was lost: their frames are NAKed now). */
  failAll(err: Error): void {
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) settle(q.batch, err);
    for (const q of this.waiting.values()) settle(q.batch, err);
    this.waiting.clear();
  }

  /**
   * The server refused to let this client publish to `subject` (a permission violation): it answers no such message,
   * so the frames that sent one fail now with `err`, rather than after the timeout as if the store were down.
   */
  refusedSubject(subject: string, err: Error): void {
    for (const [token, q] of this.waiting) {
      if (q.subject !== subject) continue;
      this.waiting.delete(token);
      settle(q.batch, err);
    }
  }

  /** Stops: what still waits is refused as closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.failAll(new PublishError('ClosedConnectionError', 'the publisher is closed'));
    this.sub.unsubscribe();
  }

  /** Number of messages waiting for their PubAck (tests, diagnostics). */
  get inFlight(): number {
    return this.waiting.size;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const queued = this.queue;
    this.queue = [];
    if (!this.deps.connected()) {
      const err = new PublishError('ConnectionError', 'NATS disconnected (the client is reconnecting)');
      for (const q of queued) settle(q.batch, err);
      return;
    }
    const { nc, headers } = this.deps;
    // Every publish below lands in the client's buffer, which it writes out once after this synchronous loop.
    for (const q of queued) {
      if (q.batch.settled) continue;
      const token = ++this.nextToken;
      if (q.batch.firstToken === 0) q.batch.firstToken = token;
      const h = headers();
      h.set(MSG_ID_HEADER, q.msgID);
      this.waiting.set(token, q);
      try {
        nc.publish(q.subject, q.data, { reply: `${this.inbox}.${token}`, headers: h });
      } catch (err) {
        this.waiting.delete(token);
        settle(q.batch, err instanceof Error ? err : new PublishError('ConnectionError', String(err)));
      }
    }
  };

  private answered(msg: Msg): void {
    const token = Number(msg.subject.slice(this.inbox.length + 1));
    const batch = this.waiting.get(token)?.batch;
    if (!batch) return; // expired, or failed with the connection meanwhile
    this.waiting.delete(token);
    if (batch.settled) return;
    const problem = pubAckProblem(msg);
    if (problem) return settle(batch, problem);
    if (batch.stored) {
      const seq = storedSeq(msg.data);
      if (seq > 0) batch.stored(token - batch.firstToken, seq);
    }
    if (--batch.left === 0) {
      batch.settled = true;
      batch.resolve();
    }
  }

  private expire(now: number): void {
    for (const [token, q] of this.waiting) {
      if (q.batch.deadline > now) return; // the rest are younger
      this.waiting.delete(token);
      settle(q.batch, new PublishError('TimeoutError', `no acknowledgement within ${this.timeoutMs} ms`));
    }
  }
}

function settle(batch: Batch, err: Error): void {
  if (batch.settled) return;
  batch.settled = true;
  batch.reject(err);
}

const SEQ_FIELD = Buffer.from('"seq":');
const DUPLICATE_FIELD = Buffer.from('"duplicate":');
const SPACE = 0x20;

/** Where the value of `field` starts in `bytes` (after any spaces: the server writes `"duplicate": true`), or -1. */
function valueAt(bytes: Buffer, field: Buffer): number {
  const at = bytes.indexOf(field);
  if (at < 0) return -1;
  let i = at + field.length;
  while (bytes[i] === SPACE) i++;
  return i;
}

/** The stream sequence a PubAck names, or -1 (a duplicate: the message was stored before; or no sequence found). */
export function storedSeq(data: Uint8Array): number {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const duplicate = valueAt(bytes, DUPLICATE_FIELD);
  if (duplicate >= 0 && bytes[duplicate] === 0x74 /* t */) return -1;
  const start = valueAt(bytes, SEQ_FIELD);
  if (start < 0) return -1;
  let seq = 0;
  let i = start;
  for (; i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39; i++) seq = seq * 10 + (bytes[i]! - 0x30);
  return i > start ? seq : -1;
}

/**
 * What an answer on a reply subject says, null for a PubAck: no responders (status 503 without a body: no server
 * stores the subject's stream), or a JetStream API error (`{"error": {"code", "err_code", "description"}}`).
 */
export function pubAckProblem(msg: Pick<Msg, 'data' | 'headers'>): PublishError | null {
  const { data } = msg;
  if (data.length > PUB_ACK_START.length && Buffer.compare(PUB_ACK_START, data.subarray(0, PUB_ACK_START.length)) === 0) return null;
  if (data.length === 0) {
    const code = msg.headers?.code ?? 0;
    return code === 503
      ? new PublishError('NoResponders', 'no responders')
      : new PublishError('JetStreamApiError', `empty answer (status ${code})`, code || undefined);
  }
  let answer: { stream?: unknown; error?: { code?: unknown; description?: unknown } };
  try {
    answer = JSON.parse(decoder.decode(data)) as typeof answer;
  } catch {
    return new PublishError('JetStreamApiError', 'the answer is not JSON');
  }
  if (answer.error) {
    const status = typeof answer.error.code === 'number' ? answer.error.code : undefined;
    return new PublishError('JetStreamApiError', String(answer.error.description ?? 'JetStream error'), status);
  }
  if (typeof answer.stream !== 'string' || answer.stream === '') return new PublishError('JetStreamApiError', 'invalid PubAck');
  return null;
}
