/**
 * `alarm-bridge outbox status|list|retry|discard [--dead] --config FILE`: the operator's view of the durable outbox.
 * In cluster mode (a `cluster` section) every action talks to the JetStream streams instead (docs/cluster.md §6).
 * `retry` and `discard` change the outbox: on a stopped bridge they open it themselves; while a bridge runs (it
 * holds the outbox's lock) they ask that bridge over its status server (`POST /outbox/retry|discard`), so alarms
 * keep coming in while the operator fixes the config. `status` and `list` ask a running bridge too
 * (`POST /outbox/status|list`: attempts, last reason and next attempt as the bridge has them) and read the files
 * when none answers; each line says which it shows (`"view": "live"` or `"on-disk"`).
 */
import { request } from 'undici';
import type { CommandModule } from 'yargs';
import { loadConfigFile } from '../config/load.js';
import type { BridgeConfig, ClusterConfig, HttpConfig, OutboxConfig } from '../config/types.js';
import { urlHost } from '../http/incoming.js';
import { createLogger, describeError } from '../log.js';
import { CONTROL_TOKEN_FILE, readControlToken } from '../server/ops/control-token.js';
import { openClusterLog, type ClusterLog } from '../sink/cluster/cluster-log.js';
import { clusterStatus } from '../sink/cluster/operator-view.js';
import { openOutbox, OutboxLockedError, type Outbox } from '../sink/outbox/index.js';
import { StartupError } from '../startup-error.js';
import { parseJson, readBody } from '../sink/partner-api/body.js';
import { isPlainObject } from '../sink/partner-event-schema.js';
import { UsageError } from './frame-input.js';
import {
  clusterListRows,
  discardLetters,
  listRows,
  requireDiscardChoice,
  retryLetters,
  statusReport,
  type DeadLetterChoice,
  type DiscardReport,
  type ListRequest,
  type OutboxView,
  type RetryReport,
} from '../server/app/outbox-operations.js';

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
  return (
    isPlainObject(v) &&
    typeof v.requeued === 'number' &&
    isStringList(v.ids) &&
    Array.isArray(v.skipped) &&
    v.skipped.every((l) => isPlainObject(l) && typeof l.id === 'string' && typeof l.reason === 'string')
  );
}

function isDiscardReport(v: unknown): v is DiscardReport {
  return (
    isPlainObject(v) && typeof v.discarded === 'number' && isStringList(v.ids) && Array.isArray(v.letters) && v.letters.every(isPlainObject)
  );
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
async function askLiveView(
  action: 'status' | 'list',
  config: BridgeConfig & { outbox: OutboxConfig },
  body: unknown,
): Promise<unknown | null> {
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
async function askRunningBridge(
  action: 'retry' | 'discard',
  choice: DeadLetterChoice,
  config: BridgeConfig & { outbox: OutboxConfig },
  file: string,
  locked: OutboxLockedError,
  write: (line: string) => void,
): Promise<number> {
  if (!config.http) {
    throw new UsageError(
      `${locked.message} (a running bridge): stop it first, or give it an "http" section in ${file} so that "outbox ${action}" can ask it`,
    );
  }
  const token = await readControlToken(config.outbox.dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EACCES' && err.code !== 'EPERM') throw err;
    throw new UsageError(
      `${locked.message}, and its ${CONTROL_TOKEN_FILE} there is readable by the bridge's user only (mode 0600): run this command as that user or as root`,
    );
  });
  if (token === null) {
    throw new UsageError(
      `${locked.message}, and it published no ${CONTROL_TOKEN_FILE} there: it is still starting (try again in a moment), its status server is off, or it runs a version without one (stop it first)`,
    );
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
    throw new UsageError(
      `the status server at ${url} is not the bridge that holds ${config.outbox.dir} (it refused that bridge's control token): check "http" in ${file} (a changed "http" takes effect only when the bridge restarts)`,
    );
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

/**
 * The command in cluster mode (docs/cluster.md §6): it acts on the JetStream streams directly, from any machine with
 * the configuration; there is no lock, and no bridge needs asking.
 */
async function runClusterOutbox(
  args: OutboxArgs,
  config: BridgeConfig & { cluster: ClusterConfig },
  choice: DeadLetterChoice,
  write: (line: string) => void,
): Promise<number> {
  if (args.action === 'discard') requireDiscardChoice(choice);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  let log: ClusterLog;
  try {
    log = await openClusterLog(config.cluster, { logger, duplicateWindowSeconds: config.receiver.duplicateWindowSeconds });
  } catch (err) {
    if (err instanceof StartupError) throw new UsageError(`${args.config}: ${err.message}`);
    throw err;
  }
  try {
    switch (args.action) {
      case 'retry':
        return printRetry(await retryLetters(log, config, choice), write);
      case 'discard':
        return printDiscard(await discardLetters(log, choice), write);
      case 'status':
        printView('status', 'cluster', await clusterStatus(log), write);
        return 0;
      case 'list':
        printView('list', 'cluster', await clusterListRows(log, { dead: args.dead === true, limit: args.limit ?? 1000 }), write);
        return 0;
    }
  } finally {
    await log.close();
  }
}

export async function runOutbox(args: OutboxArgs, write: (line: string) => void): Promise<number> {
  const config = await loadConfigFile(args.config);
  const choice: DeadLetterChoice = {
    ...(args.id ? { ids: args.id } : {}),
    ...(args.account ? { account: args.account } : {}),
    ...(args.reason ? { reason: args.reason } : {}),
    ...(args.all ? { all: true } : {}),
  };
  if (config.cluster) return runClusterOutbox(args, { ...config, cluster: config.cluster }, choice, write);
  if (!config.outbox) throw new UsageError(`${args.config}: no "outbox" or "cluster" section: there is no outbox to inspect`);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  if (args.action === 'discard' || args.action === 'retry') {
    const action = args.action;
    if (action === 'discard') requireDiscardChoice(choice);
    let outbox: Outbox;
    try {
      outbox = await openOutbox(config.outbox, { logger, start: false });
    } catch (err) {
      if (err instanceof OutboxLockedError)
        return askRunningBridge(action, choice, { ...config, outbox: config.outbox }, args.config, err, write);
      throw err;
    }
    try {
      return action === 'retry'
        ? printRetry(await retryLetters(outbox, config, choice), write)
        : printDiscard(await discardLetters(outbox, choice), write);
    } finally {
      await outbox.close();
    }
  }
  const listRequest: ListRequest = { dead: args.dead === true, limit: args.limit ?? 1000 };
  const live = await askLiveView(args.action, { ...config, outbox: config.outbox }, args.action === 'list' ? listRequest : {});
  if (live !== null && printView(args.action, 'live', live, write)) return 0;
  const outbox = await openOutbox(config.outbox, { logger, readOnly: true, start: false });
  try {
    printView(
      args.action,
      'on-disk',
      args.action === 'status' ? statusReport(outbox, config.outbox.dir) : await listRows(outbox, listRequest),
      write,
    );
    return 0;
  } finally {
    await outbox.close();
  }
}

export const outboxCommand: CommandModule<object, OutboxArgs> = {
  command: 'outbox <action>',
  describe:
    'inspect the durable outbox (status, list [--dead]), re-queue dead letters after fixing the config (retry) or drop them (discard)',
  builder: (y) =>
    y
      .positional('action', { choices: ['status', 'list', 'retry', 'discard'] as const, demandOption: true })
      .option('config', {
        type: 'string',
        demandOption: true,
        describe: 'the bridge configuration file (its outbox.dir, or its cluster section)',
      })
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
