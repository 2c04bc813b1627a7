import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { FileSupervisionStore, type FailureRecord, type SupervisorTimers } from '../../../src/server/ops/supervision-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'supervision-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
/** Timers that never fire: the tests write with `flush` and `close`. */
const idle: SupervisorTimers = { setTimeout: () => 0, clearTimeout: () => undefined };
const store = (path = join(dir, 'supervision.json')) =>
  new FileSupervisionStore({ path, logger: createLogger({ level: 'silent' }), timers: idle, now: () => new Date(T0), debounceMs: 1000 });

const failure: FailureRecord = {
  lastSeen: T0 - 120_000,
  peer: '10.0.0.5:1',
  transport: 'tcp',
  declaredAt: T0,
  phase: 'reported',
  returned: null,
};

describe('FileSupervisionStore', () => {
  it('keeps last-seen times and reported failures across instances of the store, and forgets removed accounts', async () => {
    const first = store();
    await first.load();
    first.seen('1234', { at: T0 - 120_000, peer: '10.0.0.5:1', transport: 'tcp' });
    first.seen('1234', { at: T0 - 200_000, peer: '10.0.0.9:1', transport: 'udp' }); // older: ignored
    first.seen('5678', { at: T0, peer: '10.0.0.6:1', transport: 'udp' });
    await first.failureReported('1234', failure);
    first.forget('5678');
    await first.close();

    const again = await store().load();
    expect([...again.keys()]).toEqual(['1234']);
    // The file keeps a failure's times only (its address was the last-seen one).
    expect(again.get('1234')).toEqual({
      seen: { at: T0 - 120_000, peer: '10.0.0.5:1', transport: 'tcp' },
      failure: { ...failure, peer: null, transport: null },
    });
  });

  it('lets this process raise every failure (one process, nothing to claim) and ends it on restore', async () => {
    const s = store();
    await s.load();
    expect(await s.claimFailure('1234', failure)).toBe(failure);
    expect(await s.claimRestore('1234', failure, { at: T0, peer: '10.0.0.5:1', transport: 'tcp' })).toBe(true);
    await s.failureReported('1234', failure);
    await s.restored('1234');
    await s.close();
    expect(JSON.parse(await readFile(join(dir, 'supervision.json'), 'utf8')).accounts).toEqual({});
  });

  it('keeps a frame recorded before load when it is newer than the file', async () => {
    const path = join(dir, 'supervision.json');
    const old = new Date(T0 - 3600_000).toISOString();
    await writeFile(
      path,
      JSON.stringify({ version: 1, savedAt: old, accounts: { '1234': { lastSeen: old, peer: 'p', transport: 'tcp', failure: null } } }),
    );
    const s = store(path);
    s.seen('1234', { at: T0, peer: '10.0.0.5:9', transport: 'udp' });
    expect((await s.load()).get('1234')?.seen).toEqual({ at: T0, peer: '10.0.0.5:9', transport: 'udp' });
    await s.close();
  });
});
