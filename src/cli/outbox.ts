/**
 * `alarm-bridge outbox status|list|retry|discard [--dead] --config FILE`: the operator's view of the durable outbox.
 * `retry` and `discard` change the outbox: on a stopped bridge they open it themselves; while a bridge runs (it
 * holds the outbox's lock) they ask that bridge over its status server (`POST /outbox/retry|discard`), so alarms
 * keep coming in while the operator fixes the config. `status` and `list` ask a running bridge too
 * (`POST /outbox/status|list`: attempts, last reason and next attempt as the bridge has them) and read the files
 * when none answers; each line says which it shows (`"view": "live"` or `"on-disk"`).
 */
import { request } from 'undici';
import type { CommandModule } from 'yargs';
import { loadConfigFile } from '../config/load.js';
import type { BridgeConfig, HttpConfig, OutboxConfig } from '../config/types.js';
import { urlHost } from '../http/incoming.js';
import { createLogger, describeError, redactUrl } from '../log.js';
import { mapFrame, reviveSource, type SourceFrame } from '../mapper/index.js';
import { unescapeFrame } from '../protocols/escape.js';
import { CONTROL_TOKEN_FILE, readControlToken } from '../server/ops/control-token.js';
import { accountDirectory } from '../server/pipeline/policy.js';
import { receiveDc09, receiveSurgard } from '../server/pipeline/receive.js';
import { openOutbox, OutboxLockedError, type DeadLetterFilter, type Outbox, type StoredDeadLetter } from '../sink/outbox/index.js';
import { parseJson, readBody } from '../sink/partner-api/body.js';
import { isPlainObject } from '../sink/partner-event-schema.js';
import type { OutgoingEvent } from '../sink/types.js';
import { UsageError } from './frame-input.js';

interface OutboxArgs {
  action: 'status' | 'list' | 'retry' | 'discard';
  config: string;
  dead?: boolean;
  account?: string;
  id?: string[];
  reason?: string;
  all?: boolean;
  limit?: number;
  exitCode?: number;
}

/** Never print a camera password, nor credentials in a snapshot URL, kept with an event's media source. */
function withoutSecrets<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (key, v) => (key === 'password' ? '[Redacted]' : key === 'snapshotUrl' && typeof v === 'string' ? redactUrl(v) : v))) as T;
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
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('expected a JSON object with ids, account, reason or all');
  const { ids, account, reason, all, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new UsageError(`unknown field ${JSON.stringify(unknown[0])}: expected ids, account, reason or all`);
  if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string'))) throw new UsageError('ids: expected a list of event ids');
  if (account !== undefined && typeof account !== 'string') throw new UsageError('account: expected a string');
  if (reason !== undefined && typeof reason !== 'string') throw new UsageError('reason: expected a string');
  if (all !== undefined && typeof all !== 'boolean') throw new UsageError('all: expected true or false');
  return { ...(ids ? { ids: ids as string[] } : {}), ...(account ? { account } : {}), ...(reason ? { reason } : {}), ...(all ? { all } : {}) };
}

function filterOf(choice: DeadLetterChoice): DeadLetterFilter {
  return {
    ...(choice.ids ? { ids: choice.ids } : {}),
    ...(choice.account ? { account: choice.account.toUpperCase() } : {}),
    ...(choice.reason ? { reason: choice.reason } : {}),
  };
}

/** Re-queues the chosen dead letters (all by default) with their original event ids, mapped with `config`. */
export async function retryLetters(outbox: Outbox, config: BridgeConfig, choice: DeadLetterChoice): Promise<RetryReport> {
  const result = await outbox.retryDead({ ...filterOf(choice), remap: (letter) => remapLetter(letter, config) });
  return { requeued: result.requeued.length, ids: result.requeued, skipped: result.skipped.map((l) => ({ id: l.id, reason: l.reason, configKey: l.configKey ?? null })) };
}

/** `discard` drops nothing by accident: it needs ids, an account, a reason, or `all`. */
function requireDiscardChoice(choice: DeadLetterChoice): void {
  if (!choice.all && !choice.ids && !choice.account && !choice.reason) {
    throw new UsageError('outbox discard: choose the dead letters with --id, --account or --reason, or pass --all');
  }
}

/** Drops the chosen dead letters (UsageError without a choice) and returns them without secrets. */
export async function discardLetters(outbox: Outbox, choice: DeadLetterChoice): Promise<DiscardReport> {
  requireDiscardChoice(choice);
  const letters = await outbox.discardDead(filterOf(choice));
  return { letters: letters.map(withoutSecrets), discarded: letters.length, ids: letters.map((l) => l.id) };
}

/** What `status` and `list` show: the running bridge's state (`live`) or the files of a stopped one (`on-disk`). */
export type OutboxView = 'live' | 'on-disk';

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
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) throw new UsageError('limit: expected a whole number of rows');
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

function printRetry(report: RetryReport, write: (line: string) => void): number {
  write(JSON.stringify(report));
  return report.skipped.length > 0 ? 1 : 0;
}

function printDiscard(report: DiscardReport, write: (line: string) => void): number {
  for (const letter of report.letters) write(JSON.stringify(letter));
  write(JSON.stringify({ discarded: report.discarded, ids: report.ids }));
  return 0;
}

/** A reply from a running bridge can hold every discarded letter; bounded all the same. */
const MAX_REPLY_BYTES = 256 * 1024 * 1024;
/** Re-queueing re-maps and journals each letter: seconds for thousands; a bridge that says nothing for this long is stuck. */
const REPLY_TIMEOUT_MS = 120_000;

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function isRetryReport(v: unknown): v is RetryReport {
  return isPlainObject(v) && typeof v.requeued === 'number' && isStringList(v.ids) && Array.isArray(v.skipped) && v.skipped.every((l) => isPlainObject(l) && typeof l.id === 'string' && typeof l.reason === 'string');
}

function isDiscardReport(v: unknown): v is DiscardReport {
  return isPlainObject(v) && typeof v.discarded === 'number' && isStringList(v.ids) && Array.isArray(v.letters) && v.letters.every(isPlainObject);
}

/** POSTs `body` to a running bridge's `/outbox/<action>` with its control token: the HTTP status and the JSON reply. */
async function postToBridge(http: HttpConfig, action: string, token: string, body: unknown): Promise<{ status: number; reply: unknown }> {
  const res = await request(bridgeUrl(http, action), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    headersTimeout: REPLY_TIMEOUT_MS,
    bodyTimeout: REPLY_TIMEOUT_MS,
  });
  return { status: res.statusCode, reply: parseJson(await readBody(res.body, MAX_REPLY_BYTES)) };
}

const bridgeUrl = (http: HttpConfig, action: string) => `http://${urlHost(http.host)}:${http.port}/outbox/${action}`;

/**
 * `status` / `list` from the bridge that holds the outbox, when one runs and answers with its control token; null
 * when there is none (no `http` section, no token, nobody answering, a refusal): the caller reads the files instead.
 */
async function askLiveView(action: 'status' | 'list', config: BridgeConfig & { outbox: OutboxConfig }, body: unknown): Promise<unknown | null> {
  if (!config.http) return null;
  const token = await readControlToken(config.outbox.dir).catch(() => null);
  if (token === null) return null;
  try {
    const { status, reply } = await postToBridge(config.http, action, token, body);
    return status === 200 ? reply : null;
  } catch {
    return null;
  }
}

/**
 * `retry` / `discard` while a bridge holds the outbox: asks that bridge over its status server, with the control
 * token it wrote next to the outbox (a server that is not that bridge refuses it).
 */
async function askRunningBridge(action: 'retry' | 'discard', choice: DeadLetterChoice, config: BridgeConfig & { outbox: OutboxConfig }, file: string, locked: OutboxLockedError, write: (line: string) => void): Promise<number> {
  if (!config.http) {
    throw new UsageError(`${locked.message} (a running bridge): stop it first, or give it an "http" section in ${file} so that "outbox ${action}" can ask it`);
  }
  const token = await readControlToken(config.outbox.dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EACCES' && err.code !== 'EPERM') throw err;
    throw new UsageError(`${locked.message}, and its ${CONTROL_TOKEN_FILE} there is readable by the bridge's user only (mode 0600): run this command as that user or as root`);
  });
  if (token === null) {
    throw new UsageError(`${locked.message}, and it published no ${CONTROL_TOKEN_FILE} there: it is still starting (try again in a moment), its status server is off, or it runs a version without one (stop it first)`);
  }
  const url = bridgeUrl(config.http, action);
  let status: number;
  let reply: unknown;
  try {
    ({ status, reply } = await postToBridge(config.http, action, token, choice));
  } catch (err) {
    throw new UsageError(`${locked.message}, and its status server at ${url} did not answer (${describeError(err)})`);
  }
  if (status === 401) {
    throw new UsageError(`the status server at ${url} is not the bridge that holds ${config.outbox.dir} (it refused that bridge's control token): check "http" in ${file} (a changed "http" takes effect only when the bridge restarts)`);
  }
  if (status === 200 && (action === 'retry' ? isRetryReport(reply) : isDiscardReport(reply))) {
    return action === 'retry' ? printRetry(reply as RetryReport, write) : printDiscard(reply as DiscardReport, write);
  }
  const error = isPlainObject(reply) && typeof reply.error === 'string' ? reply.error : `HTTP ${status} without the expected JSON`;
  throw new UsageError(`the running bridge refused "outbox ${action}" (${url}): ${error}`);
}

/** Prints a status report or list rows, each with the view it shows; false when `reply` is not of that shape. */
function printView(action: 'status' | 'list', view: OutboxView, reply: unknown, write: (line: string) => void): boolean {
  if (action === 'status') {
    if (!isPlainObject(reply)) return false;
    write(JSON.stringify({ view, ...reply }));
    return true;
  }
  if (!Array.isArray(reply) || !reply.every(isPlainObject)) return false;
  for (const row of reply) write(JSON.stringify({ view, ...row }));
  return true;
}

export async function runOutbox(args: OutboxArgs, write: (line: string) => void): Promise<number> {
  const config = await loadConfigFile(args.config);
  if (!config.outbox) throw new UsageError(`${args.config}: no "outbox" section: there is no outbox to inspect`);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const choice: DeadLetterChoice = {
    ...(args.id ? { ids: args.id } : {}),
    ...(args.account ? { account: args.account } : {}),
    ...(args.reason ? { reason: args.reason } : {}),
    ...(args.all ? { all: true } : {}),
  };
  if (args.action === 'discard' || args.action === 'retry') {
    const action = args.action;
    if (action === 'discard') requireDiscardChoice(choice);
    let outbox: Outbox;
    try {
      outbox = await openOutbox(config.outbox, { logger, start: false });
    } catch (err) {
      if (err instanceof OutboxLockedError) return askRunningBridge(action, choice, { ...config, outbox: config.outbox }, args.config, err, write);
      throw err;
    }
    try {
      return action === 'retry' ? printRetry(await retryLetters(outbox, config, choice), write) : printDiscard(await discardLetters(outbox, choice), write);
    } finally {
      await outbox.close();
    }
  }
  const listRequest: ListRequest = { dead: args.dead === true, limit: args.limit ?? 1000 };
  const live = await askLiveView(args.action, { ...config, outbox: config.outbox }, args.action === 'list' ? listRequest : {});
  if (live !== null && printView(args.action, 'live', live, write)) return 0;
  const outbox = await openOutbox(config.outbox, { logger, readOnly: true, start: false });
  try {
    printView(args.action, 'on-disk', args.action === 'status' ? statusReport(outbox, config.outbox.dir) : await listRows(outbox, listRequest), write);
    return 0;
  } finally {
    await outbox.close();
  }
}

export const outboxCommand: CommandModule<object, OutboxArgs> = {
  command: 'outbox <action>',
  describe: 'inspect the durable outbox (status, list [--dead]), re-queue dead letters after fixing the config (retry) or drop them (discard)',
  builder: (y) =>
    y
      .positional('action', { choices: ['status', 'list', 'retry', 'discard'] as const, demandOption: true })
      .option('config', { type: 'string', demandOption: true, describe: 'the bridge configuration file (its outbox.dir)' })
      .option('dead', { type: 'boolean', describe: 'list: dead letters instead of pending events' })
      .option('account', { type: 'string', describe: 'retry, discard: only this account' })
      .option('id', { type: 'string', array: true, describe: 'retry, discard: only these event ids' })
      .option('reason', { type: 'string', describe: 'retry, discard: only letters with this reason (e.g. permanent, unmapped-camera)' })
      .option('all', { type: 'boolean', describe: 'discard: every dead letter' })
      .option('limit', { type: 'number', describe: 'list: at most this many rows (default 1000)' }) as never,
  handler: async (argv) => {
    argv.exitCode = await runOutbox(argv, (line) => process.stdout.write(`${line}\n`));
  },
};
