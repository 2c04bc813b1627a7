/** `alarm-bridge outbox status|list|retry|discard [--dead] --config FILE`: the operator's view of the durable outbox. */
import type { CommandModule } from 'yargs';
import { loadConfigFile } from '../config/load.js';
import type { BridgeConfig } from '../config/types.js';
import { createLogger, redactUrl } from '../log.js';
import { mapFrame, reviveSource, sourceFromDc09, sourceFromSurgard, type SourceFrame } from '../mapper/index.js';
import { decodePayload } from '../protocols/decode.js';
import { decideReply, parseFrame } from '../protocols/dc09/index.js';
import { unescapeFrame } from '../protocols/escape.js';
import { parseSurgardRecord } from '../protocols/surgard/index.js';
import { accountDirectory } from '../server/policy.js';
import { openOutbox, type StoredDeadLetter } from '../sink/outbox/index.js';
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
  const via = transport === 'tcp' || transport === 'udp' ? transport : null;
  if (bytes[0] !== 0x0a) {
    const record = parseSurgardRecord(bytes);
    return record.ok && record.record.kind !== 'heartbeat' ? sourceFromSurgard(record.record, at, peerText ?? '', rawFrame) : null;
  }
  const directory = accountDirectory(config);
  const result = parseFrame(bytes, { keysFor: directory.keysFor });
  if (!result.ok) return null;
  const decision = decideReply(result, directory.policy, { now: at });
  return sourceFromDc09(result.message, decodePayload(result.message).events, { account, receivedAt: at, peer: peerText, transport: via, raw: rawFrame, skewFlagged: decision.skewFlagged });
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

export async function runOutbox(args: OutboxArgs, write: (line: string) => void): Promise<number> {
  const config = await loadConfigFile(args.config);
  if (!config.outbox) throw new UsageError(`${args.config}: no "outbox" section: there is no outbox to inspect`);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  if (args.action === 'discard' && !args.all && !args.id && !args.account && !args.reason) {
    throw new UsageError('outbox discard: choose the dead letters with --id, --account or --reason, or pass --all');
  }
  const readOnly = args.action === 'status' || args.action === 'list';
  const outbox = await openOutbox(config.outbox, { logger, readOnly, start: false });
  try {
    if (args.action === 'status') {
      write(JSON.stringify({ dir: config.outbox.dir, ...outbox.status() }));
      return 0;
    }
    if (args.action === 'list') {
      const limit = args.limit ?? 1000;
      const rows = args.dead ? await outbox.list({ dead: true, limit }) : await outbox.list({ limit });
      for (const row of rows) write(JSON.stringify(withoutSecrets(row)));
      return 0;
    }
    const filter = {
      ...(args.id ? { ids: args.id } : {}),
      ...(args.account ? { account: args.account.toUpperCase() } : {}),
      ...(args.reason ? { reason: args.reason } : {}),
    };
    if (args.action === 'discard') {
      // Each discarded letter is printed first (the operator's copy), then the summary.
      const discarded = await outbox.discardDead(filter);
      for (const letter of discarded) write(JSON.stringify(withoutSecrets(letter)));
      write(JSON.stringify({ discarded: discarded.length, ids: discarded.map((l) => l.id) }));
      return 0;
    }
    // retry: re-queue dead letters (all, or by account / ids / reason) with their original event ids; the bridge delivers them.
    const result = await outbox.retryDead({ ...filter, remap: (letter) => remapLetter(letter, config) });
    write(JSON.stringify({ requeued: result.requeued.length, ids: result.requeued, skipped: result.skipped.map((l) => ({ id: l.id, reason: l.reason, configKey: l.configKey ?? null })) }));
    return result.skipped.length > 0 ? 1 : 0;
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
