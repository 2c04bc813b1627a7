/**
 * API outage under load (issue #6): while the emulator answers 503 for a few seconds the panels keep getting ACKs
 * (the outbox holds the events); afterwards every event arrives, in order per account.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { startTestBridge, TcpPanel, text, type TestBridge } from '../server/harness.js';
import { emulatorSink } from './api-harness.js';

let emulator: Emulator | null = null;
let bridge: TestBridge | null = null;
afterEach(async () => {
  await bridge?.stop();
  await emulator?.close();
});

describe('API outage under load', () => {
  it('ACKs during a 503 outage and delivers everything afterwards, in order per account', async () => {
    emulator = await startEmulator({ quiet: true });
    const accounts = Object.fromEntries(['O1', 'O2', 'O3', 'O4'].map((a) => [a, { locationId: `LOC-${a}`, cameraId: `cam-${a}` }]));
    const { dir, sink } = await emulatorSink(emulator);
    bridge = await startTestBridge({
      accounts,
      outbox: { dir: join(dir, 'outbox') },
      sink,
      log: { level: 'warn' },
    });
    emulator.setFaults({ failureRate: 1 });
    const panels = await Promise.all(Object.keys(accounts).map(() => TcpPanel.open(bridge!.bridge.port('tcp'))));
    const perAccount = 40;
    const sent: Record<string, string[]> = {};
    const outageEnds = setTimeout(() => emulator!.setFaults({ failureRate: 0 }), 3000);
    await Promise.all(
      Object.keys(accounts).map(async (account, p) => {
        sent[account] = [];
        for (let i = 0; i < perAccount; i++) {
          const data = `#${account}|Nri1/BA${i + 1}`;
          sent[account]!.push(`${i + 1}`);
          panels[p]!.write(
            buildRequest({ token: 'SIA-DCS', sequence: String(i).padStart(4, '0'), line: '0', account, data, timestamp: new Date() }),
          );
          const replies = await panels[p]!.waitForReplies(i + 1);
          expect(text(replies[i])).toContain('"ACK"');
          await new Promise((r) => setTimeout(r, 20));
        }
      }),
    );
    const total = perAccount * Object.keys(accounts).length;
    const deadline = Date.now() + 60_000;
    while (emulator.events().length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    clearTimeout(outageEnds);
    const received = emulator.events().map((e) => e.body as { location_id: string; payload: { account: string; zone: string } });
    expect(received).toHaveLength(total);
    for (const account of Object.keys(accounts)) {
      const zones = received.filter((b) => b.payload.account === account).map((b) => b.payload.zone);
      expect(zones).toEqual(sent[account]);
    }
    for (const p of panels) p.end();
  }, 90_000);
});
