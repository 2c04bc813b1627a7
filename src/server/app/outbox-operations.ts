/**
 * The operator's actions on a durable outbox, shared by `alarm-bridge outbox` (on a stopped bridge's files) and the
 * running bridge's status server (`POST /outbox/status|list|retry|discard`, which the same command calls): what each
 * shows, and dead letters mapped again with the configuration in force.
 */
import type { BridgeConfig } from '../../config/types.js';
import { redactUrl } from '../../log.js';
import { mapFrame, reviveSource, type SourceFrame } from '../../mapper/index.js';
import { unescapeFrame } from '../../protocols/escape.js';
import type { ClusterLog } from '../../sink/cluster/cluster-log.js';
import { clusterPending } from '../../sink/cluster/operator-view.js';
import type { RetryDeadOptions, RetryDeadResult } from '../../sink/outbox/dead-letter-actions.js';
import type { DeadLetterFilter, Outbox, StoredDeadLetter } from '../../sink/outbox/index.js';
import { isPlainObject } from '../../sink/partner-event-schema.js';
import type { OutgoingEvent } from '../../sink/types.js';
import { UsageError } from '../../usage-error.js';
import { accountDirectory } from '../pipeline/policy.js';
import { receiveDc09, receiveSurgard } from '../pipeline/receive.js';

/** Never print a camera password, nor credentials in a snapshot URL, kept with an event's media source. */
function withoutSecrets<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (key, v) =>
      key === 'password' ? '[Redacted]' : key === 'snapshotUrl' && typeof v === 'string' ? redactUrl(v) : v,
    ),
  ) as T;
}

/**
 * The frame a journaled event came from, rebuilt from its payload (raw frame, account, receipt time, peer): API
 * refusals keep only the posted body, and the body carries everything needed to decode the frame again.
 */
function sourceFromPayload(payload: Record<string, unknown>, config: BridgeConfig): SourceFrame | null {
  const { rawFrame, account, receivedAt, peer, transport } = payload;
  if (typeof rawFrame !== 'string' || typeof account !== 'string' || typeof receivedAt !== 'string') return null;
  const bytes = unescapeFrame(rawFrame);
  const at = new Date(receivedAt);
  const peerText = typeof peer === 'string' ? peer : null;
  // A DC-09 frame starts with LF; anything else was kept from a Sur-Gard link.
  if (bytes[0] !== 0x0a) return receiveSurgard(bytes, at, { peer: peerText ?? '', raw: rawFrame }).source;
  const via = transport === 'tcp' || transport === 'udp' ? transport : null;
  return receiveDc09(bytes, accountDirectory(config), at, { peer: peerText, transport: via, raw: rawFrame, account }).source;
}

/**
 * Maps a dead letter again with the (fixed) configuration: unmapped events from their stored source, API refusals
 * from the frame in their body's payload. The event id stays the one it had (ids do not depend on the config).
 * Null when it still does not map, or when there is nothing to map from (the stored body is re-sent as it was).
 */
export function remapLetter(letter: StoredDeadLetter, config: BridgeConfig): OutgoingEvent | null {
  const stored = letter.source as { frame?: unknown; index?: number } | undefined;
  const source = stored ? reviveSource(stored.frame) : letter.event ? sourceFromPayload(letter.event.body.payload, config) : null;
  if (!source) return null;
  const mapped = mapFrame(source, config).find((m) => (stored ? m.index === stored.index : m.forwarded && m.body.event_id === letter.id));
  if (!mapped?.forwarded) return null;
  return { body: mapped.body, account: mapped.account, ...(mapped.media ? { media: mapped.media } : {}) };
}

/** Which dead letters `retry` and `discard` act on: the command's options, or the JSON body sent to a running bridge. */
export interface DeadLetterChoice {
  ids?: string[];
  account?: string;
  reason?: string;
  all?: boolean;
}

/** What `retry` prints (one line), locally or from a running bridge. */
export interface RetryReport {
  requeued: number;
  ids: string[];
  skipped: { id: string; reason: string; configKey: string | null }[];
}

/** What `discard` prints: each letter dropped (the operator's copy), then `{ discarded, ids }`. */
export interface DiscardReport {
  letters: StoredDeadLetter[];
  discarded: number;
  ids: string[];
}

/** A choice from a request body; throws UsageError naming the field that is wrong. */
export function parseChoice(value: unknown): DeadLetterChoice {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError('expected a JSON object with ids, account, reason or all');
  const { ids, account, reason, all, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new UsageError(`unknown field ${JSON.stringify(unknown[0])}: expected ids, account, reason or all`);
  if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string')))
    throw new UsageError('ids: expected a list of event ids');
  if (account !== undefined && typeof account !== 'string') throw new UsageError('account: expected a string');
  if (reason !== undefined && typeof reason !== 'string') throw new UsageError('reason: expected a string');
  if (all !== undefined && typeof all !== 'boolean') throw new UsageError('all: expected true or false');
  return {
    ...(ids ? { ids: ids as string[] } : {}),
    ...(account ? { account } : {}),
    ...(reason ? { reason } : {}),
    ...(all ? { all } : {}),
  };
}

function filterOf(choice: DeadLetterChoice): DeadLetterFilter {
  return {
    ...(choice.ids ? { ids: choice.ids } : {}),
    ...(choice.account ? { account: choice.account.toUpperCase() } : {}),
    ...(choice.reason ? { reason: choice.reason } : {}),
  };
}

/** Where dead letters are kept and acted on: the outbox, or the cluster's dead stream (docs/cluster.md §6). */
export interface DeadLetterKeeper {
  retryDead(options: RetryDeadOptions): Promise<RetryDeadResult>;
  discardDead(filter: DeadLetterFilter): Promise<StoredDeadLetter[]>;
}

/** Re-queues the chosen dead letters (all by default) with their original event ids, mapped with `config`. */
export async function retryLetters(outbox: DeadLetterKeeper, config: BridgeConfig, choice: DeadLetterChoice): Promise<RetryReport> {
  const result = await outbox.retryDead({ ...filterOf(choice), remap: (letter) => remapLetter(letter, config) });
  return {
    requeued: result.requeued.length,
    ids: result.requeued,
    skipped: result.skipped.map((l) => ({ id: l.id, reason: l.reason, configKey: l.configKey ?? null })),
  };
}

/** `discard` drops nothing by accident: it needs ids, an account, a reason, or `all`. */
export function requireDiscardChoice(choice: DeadLetterChoice): void {
  if (!choice.all && !choice.ids && !choice.account && !choice.reason) {
    throw new UsageError('outbox discard: choose the dead letters with --id, --account or --reason, or pass --all');
  }
}

/** Drops the chosen dead letters (UsageError without a choice) and returns them without secrets. */
export async function discardLetters(outbox: DeadLetterKeeper, choice: DeadLetterChoice): Promise<DiscardReport> {
  requireDiscardChoice(choice);
  const letters = await outbox.discardDead(filterOf(choice));
  return { letters: letters.map(withoutSecrets), discarded: letters.length, ids: letters.map((l) => l.id) };
}

/**
 * What `status` and `list` show: the running bridge's state (`live`), the files of a stopped one (`on-disk`), or
 * the cluster's streams (`cluster`, docs/cluster.md §6).
 */
export type OutboxView = 'live' | 'on-disk' | 'cluster';

/** Which rows `list` asks for: the command's options, or the JSON body sent to a running bridge. */
export interface ListRequest {
  dead: boolean;
  limit: number;
}

/** A list request from a request body (empty: the pending events, 1000 at most); throws UsageError naming the field that is wrong. */
export function parseViewRequest(value: unknown): ListRequest {
  if (value === undefined) return { dead: false, limit: 1000 };
  if (!isPlainObject(value)) throw new UsageError('expected a JSON object with dead and limit');
  const { dead = false, limit = 1000, ...rest } = value;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new UsageError(`unknown field ${JSON.stringify(unknown[0])}: expected dead or limit`);
  if (typeof dead !== 'boolean') throw new UsageError('dead: expected true or false');
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0)
    throw new UsageError('limit: expected a whole number of rows');
  return { dead, limit };
}

/** What `status` prints (without `view`). */
export function statusReport(outbox: Outbox, dir: string): Record<string, unknown> {
  return { dir, ...outbox.status() };
}

/** What `list` prints, one row a line (without `view`): pending events with attempts, last reason and next attempt, or the dead letters. */
export async function listRows(outbox: Outbox, request: ListRequest): Promise<unknown[]> {
  const rows = request.dead ? await outbox.list({ dead: true, limit: request.limit }) : await outbox.list({ limit: request.limit });
  return rows.map(withoutSecrets);
}

/** `list` in cluster mode: the events stream's pending events, or the dead stream's letters. */
export async function clusterListRows(log: ClusterLog, request: ListRequest): Promise<unknown[]> {
  const rows = request.dead ? await log.dead.readAll(request.limit) : await clusterPending(log, request.limit);
  return rows.map(withoutSecrets);
}
