/**
 * What the outbox makes durable, seen from the system calls (strace): a new directory's entry, the dead-letter
 * file's entry before the first letter counts as kept, and segment deletions. A crash test cannot show these: they
 * matter only on power loss, when the page cache is lost.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const OUTBOX_MODULE = new URL('../../../dist/src/sink/outbox/index.js', import.meta.url).href;
const LOG_MODULE = new URL('../../../dist/src/log.js', import.meta.url).href;
const STRACE = ['/usr/bin/strace', '/bin/strace'].find((path) => existsSync(path));

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Runs `body` (module code with `openOutbox`, `logger`, `config`) under strace; returns the file operations in order. */
async function traced(root: string, body: string): Promise<string[]> {
  const script = `
    const { openOutbox } = await import(${JSON.stringify(OUTBOX_MODULE)});
    const { createLogger } = await import(${JSON.stringify(LOG_MODULE)});
    const logger = createLogger({ level: 'silent' });
    const config = { dir: ${JSON.stringify(join(root, 'a', 'b', 'outbox'))}, ackAfter: 'persisted', maxBytes: 1e9, deliveredTimeoutSeconds: 10, maxAgeHours: 72 };
    ${body}
  `;
  const log = join(root, 'strace.log');
  await run(
    STRACE!,
    ['-f', '-qq', '-y', '-o', log, '-e', 'trace=%file,fsync,fdatasync', process.execPath, '--input-type=module', '-e', script],
    { timeout: 25_000 },
  );
  const text = await readFile(log, 'utf8');
  // With several threads a call can be split: "<pid> fsync(18</dir> <unfinished ...>" … "<pid> <... fsync resumed>) = 0".
  const pending = new Map<string, string>();
  const calls: string[] = [];
  for (const line of text.split('\n')) {
    const [, pid = '', rest = ''] = /^(\d+)\s+(.*)$/.exec(line) ?? [];
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, rest.slice(0, -'<unfinished ...>'.length).trimEnd());
    } else if (rest.startsWith('<...')) {
      calls.push((pending.get(pid) ?? '') + rest.replace(/^<\.\.\. \w+ resumed>/, ''));
      pending.delete(pid);
    } else if (rest) {
      calls.push(rest);
    }
  }
  const ops: string[] = [];
  for (const call of calls) {
    const created = /^openat\(AT_FDCWD(?:<[^>]*>)?, "([^"]+)", [^)]*O_CREAT[^)]*\)\s*= \d+/.exec(call);
    if (created) ops.push(`create ${created[1]}`);
    const sync = /^(fsync|fdatasync)\(\d+<([^>]+)>\)\s*= 0/.exec(call);
    if (sync) ops.push(`${sync[1]} ${sync[2]}`);
    // mkdir/unlink, or their *at forms (the only ones on some architectures).
    const made = /^mkdir(?:at\(AT_FDCWD(?:<[^>]*>)?,)?\(? ?"([^"]+)", [^)]*\)\s*= 0/.exec(call);
    if (made) ops.push(`mkdir ${made[1]}`);
    const gone = /^unlink(?:at\(AT_FDCWD(?:<[^>]*>)?,)?\(? ?"([^"]+)"(?:, 0)?\)\s*= 0/.exec(call);
    if (gone) ops.push(`unlink ${gone[1]}`);
  }
  return ops;
}

describe.runIf(STRACE)('outbox durability (system calls)', () => {
  it('fsyncs the parents of directories it creates, and the directory once the dead-letter file is created', async () => {
    const root = await mkdtemp(join(tmpdir(), 'outbox-sync-'));
    dirs.push(root);
    const outboxDir = join(root, 'a', 'b', 'outbox');
    const ops = await traced(
      root,
      `
      const outbox = await openOutbox(config, { logger, start: false });
      await outbox.keepNotForwarded([{ eventId: 'e1', account: '1234', reason: 'unmapped-camera' }]);
      await outbox.close();
    `,
    );
    for (const [made, parent] of [
      [join(root, 'a'), root],
      [join(root, 'a', 'b'), join(root, 'a')],
      [outboxDir, join(root, 'a', 'b')],
    ] as const) {
      const at = ops.indexOf(`mkdir ${made}`);
      expect(at, `mkdir ${made}`).toBeGreaterThanOrEqual(0);
      expect(ops.indexOf(`fsync ${parent}`, at), `fsync ${parent} after its new entry`).toBeGreaterThan(at);
    }
    const created = ops.indexOf(`create ${join(outboxDir, 'dead-letters.ndjson')}`);
    expect(created).toBeGreaterThanOrEqual(0);
    const dirSynced = ops.indexOf(`fsync ${outboxDir}`, created);
    const letterSynced = ops.indexOf(`fdatasync ${join(outboxDir, 'dead-letters.ndjson')}`, created);
    expect(dirSynced).toBeGreaterThan(created);
    expect(letterSynced).toBeGreaterThan(created);
    expect(dirSynced).toBeLessThan(letterSynced);
  }, 30_000);

  it('fsyncs the directory after compaction deletes a delivered segment', async () => {
    const root = await mkdtemp(join(tmpdir(), 'outbox-sync-'));
    dirs.push(root);
    const outboxDir = join(root, 'a', 'b', 'outbox');
    const ops = await traced(
      root,
      `
      const sink = { deliver: async () => ({ kind: 'accepted' }) };
      const outbox = await openOutbox(config, { logger, sink, segmentBytes: 2048 });
      const event = (n) => ({ account: '1234', body: { version: '1.0', location_id: 'L', camera_id: 'C', event_id: 'e' + n, event_type: 'alarm', event_status: 'active', event_time: new Date().toISOString(), sent_at: '', should_signal_to_monitoring_center: true, upload_snapshot_count: 0, upload_short_mp4: false, upload_event_mp4: false, payload: { n } } });
      const { readdirSync } = await import('node:fs');
      const segments = () => readdirSync(config.dir).filter((name) => name.endsWith('.journal')).length;
      let n = 0;
      // Keep accepting (each accept schedules compaction) until delivered segments have been deleted.
      for (const until = Date.now() + 10_000; Date.now() < until && (n < 40 || segments() > 2); n++) {
        await outbox.append([event(n)]);
        if (n >= 40) await new Promise((r) => setTimeout(r, 20));
      }
      await outbox.close();
    `,
    );
    const count = (pattern: RegExp) => ops.filter((op) => pattern.test(op)).length;
    const created = count(/^create .*\/\d{8}\.journal$/);
    const deleted = count(/^unlink .*\/\d{8}\.journal$/);
    expect(deleted, 'segments were deleted').toBeGreaterThanOrEqual(2);
    // Each new segment fsyncs the directory once, and so must each deletion (appends running alongside compaction
    // make the order of the two kinds vary, so they are counted).
    const escaped = outboxDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(count(new RegExp(`^fsync ${escaped}$`))).toBeGreaterThanOrEqual(created + deleted);
  }, 30_000);
});
