/**
 * Bounded memory with a backlog (issue #15): RSS of a bridge whose outbox holds 1,000,000 pending events, and the
 * time from starting that bridge to its listening. The journal is written directly with the journal's own encoder
 * (`encodeEventRecord`, `encodeCommit`: the same bytes the outbox writes, in 16 MiB segments with a commit marker
 * per batch of 1,000 records), which takes seconds where a million events through sockets would take minutes.
 * The bridge runs in a child process whose sink is down (a file sink whose path is a directory: every attempt is
 * retried), as during an API outage: each account's head event is read back and attempted, the rest wait.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeCommit, encodeEventRecord, SEGMENT_MAGIC } from '../src/sink/outbox/journal-format.js';
import { segmentBytesFor, segmentFileName } from '../src/sink/outbox/journal.js';
import { startChild, type BenchChild } from './child.js';
import { benchConfigJson, QUICK, round, withTempDir } from './setup.js';

export const BACKLOG_RSS_TARGET_MB = 300;
export const BACKLOG_START_TARGET_S = 5;
const MB = 1024 * 1024;
const ACCOUNTS = 1_000;
const BATCH = 1_000;
/** Room for the backlog: the default 1 GiB would refuse nothing here, but this leaves no doubt. */
const MAX_BYTES = 4 * 1024 * 1024 * 1024;

export interface BacklogFigures {
  pendingEvents: number;
  journalMB: number;
  writeJournalSeconds: number;
  startToListeningSeconds: number;
  outboxOpenMs: number | null;
  rssMB: number;
  heapUsedMB: number;
  bytesPerPendingEvent: number;
  target: string;
  meetsTarget: boolean;
}

/** A stored event as the mapper produces it (no media): about 600 bytes of JSON. */
function storedJson(account: string, id: string, n: number): string {
  return JSON.stringify({
    body: {
      version: '1.0',
      location_id: `LOC-${account}`,
      camera_id: `CAM-${account}`,
      event_id: id,
      event_type: 'alarm',
      event_status: 'active',
      event_time: new Date(1_767_000_000_000 + n * 1000).toISOString(),
      sent_at: '',
      should_signal_to_monitoring_center: true,
      upload_snapshot_count: 0,
      upload_short_mp4: false,
      upload_event_mp4: false,
      payload: {
        protocol: 'sia',
        code: 'BA',
        zone: String(n % 64),
        zoneName: 'Back door',
        area: '1',
        account,
        receiver: '01',
        line: '1',
        transport: 'tcp',
      },
    },
    account,
  });
}

/** Writes `events` pending events (seq 1…) into journal segments in `dir`; returns the bytes written. */
async function writeBacklogJournal(dir: string, events: number): Promise<number> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const segmentBytes = segmentBytesFor(MAX_BYTES);
  const acceptedAt = Date.now();
  let total = 0;
  let segment = 0;
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  let size = 0;
  let inSegment = 0;
  for (let seq = 1; seq <= events;) {
    if (!handle || size >= segmentBytes) {
      await handle?.close();
      handle = await open(join(dir, segmentFileName(++segment)), 'w', 0o600);
      await handle.write(SEGMENT_MAGIC);
      size = SEGMENT_MAGIC.length;
      inSegment = 0;
    }
    const frames: Buffer[] = [];
    for (let i = 0; i < BATCH && seq <= events; i++, seq++) {
      const account = `SIM${String((seq % ACCOUNTS) + 1).padStart(4, '0')}`;
      const id = createHash('sha256').update(String(seq)).digest('hex').slice(0, 32);
      frames.push(encodeEventRecord(seq, acceptedAt, account, id, storedJson(account, id, seq)).frame);
    }
    inSegment += frames.length;
    frames.push(encodeCommit(inSegment, inSegment));
    const data = Buffer.concat(frames);
    await handle.write(data);
    size += data.length;
    total += data.length;
  }
  await handle?.close();
  return total;
}

async function memoryOf(bridge: BenchChild): Promise<{ rss: number; heapUsed: number }> {
  bridge.send({ type: 'memory' });
  return bridge.next<{ type: 'memory'; rss: number; heapUsed: number }>('memory', 30_000);
}

export async function benchBacklog(): Promise<BacklogFigures> {
  const pending = QUICK ? 100_000 : 1_000_000;
  return withTempDir('backlog', async (dir) => {
    const outboxDir = join(dir, 'outbox');
    const writeStart = performance.now();
    const journalBytes = await writeBacklogJournal(outboxDir, pending);
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const config = {
      ...benchConfigJson(dir, ACCOUNTS),
      outbox: { dir: outboxDir, maxBytes: MAX_BYTES, maxAgeHours: 24 * 365 },
      // A directory: every delivery attempt fails and is retried, the backlog stays.
      sink: { type: 'file', path: dir },
    };
    const configFile = join(dir, 'bridge.json');
    await writeFile(configFile, JSON.stringify(config));
    const logFile = join(dir, 'bridge.log');
    const started = performance.now();
    const bridge = startChild('./bridge-child.js', [configFile, logFile]);
    try {
      await bridge.next('ready', 120_000);
      const startSeconds = (performance.now() - started) / 1000;
      // Every account's head attempted and backing off; the sample is the highest of a few.
      await sleep(2_000);
      let peak = await memoryOf(bridge);
      for (let i = 0; i < 3; i++) {
        await sleep(500);
        const sample = await memoryOf(bridge);
        if (sample.rss > peak.rss) peak = sample;
      }
      bridge.send({ type: 'stop' });
      await bridge.next('stopped', 60_000).catch(() => undefined);
      await bridge.exited();
      const opened = /"pending":(\d+)[^\n]*"ms":(\d+)[^\n]*"msg":"outbox opened"/.exec(await readFile(logFile, 'utf8'));
      if (opened && Number(opened[1]) !== pending) throw new Error(`the bridge reloaded ${opened[1]} pending events, not ${pending}`);
      return {
        pendingEvents: pending,
        journalMB: round(journalBytes / MB, 1),
        writeJournalSeconds: round(writeSeconds, 2),
        startToListeningSeconds: round(startSeconds, 2),
        outboxOpenMs: opened ? Number(opened[2]) : null,
        rssMB: round(peak.rss / MB, 1),
        heapUsedMB: round(peak.heapUsed / MB, 1),
        bytesPerPendingEvent: Math.round(peak.rss / pending),
        target: `RSS < ${BACKLOG_RSS_TARGET_MB} MB and listening < ${BACKLOG_START_TARGET_S} s with 1,000,000 pending events`,
        meetsTarget: !QUICK && peak.rss / MB < BACKLOG_RSS_TARGET_MB && startSeconds < BACKLOG_START_TARGET_S,
      };
    } finally {
      bridge.process.kill('SIGKILL');
    }
  });
}
