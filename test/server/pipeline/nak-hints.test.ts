/** NAK warnings say what to change: a `hint` naming the key to add or the setting that caused the refusal. */
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequest } from '../../../src/protocols/dc09/index.js';
import { nakHint } from '../../../src/server/pipeline/nak-hints.js';
import { startTestBridge, TcpPanel, text, type TestBridge } from '../harness.js';

let running: TestBridge | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

const logLines = (b: TestBridge) =>
  b
    .logs()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('NAK hints', () => {
  it('logs the key to add or the setting to change with each refusal, over a real socket', async () => {
    running = await startTestBridge({
      accounts: {
        '1234': { key: '00112233445566778899aabbccddeeff', locationId: 'L', cameraId: 'C' },
        '5678': { locationId: 'L', cameraId: 'C' },
      },
      receiver: { clearTimestamps: 'enforce' },
      log: { level: 'warn' },
    });
    const panel = await TcpPanel.open(running.bridge.port('tcp'));
    const frame = (account: string, seq: string, timestamp = new Date()) =>
      buildRequest({ token: 'SIA-DCS', sequence: seq, line: '0', account, data: `#${account}|NBA1`, timestamp });
    panel.write(frame('9999', '0001'));
    panel.write(frame('1234', '0002'));
    panel.write(frame('5678', '0003', new Date(Date.now() - 3_600_000)));
    const replies = await panel.waitForReplies(3);
    panel.end();
    expect(replies.map((r) => text(r).includes('"NAK"'))).toEqual([true, true, true]);
    const hints = Object.fromEntries(
      logLines(running)
        .filter((l) => l.reply === 'NAK')
        .map((l) => [l.reason, l.hint]),
    );
    expect(hints).toEqual({
      'unknown-account': 'add accounts["9999"] (or set receiver.unknownAccounts to "accept")',
      'clear-text-for-encrypted-account': expect.stringMatching(/^accounts\["1234"\]\.key is set, so the panel must encrypt/),
      'timestamp-out-of-window': expect.stringMatching(/panel's clock .*accounts\["5678"\]\.timestampWindow or receiver\.timestampWindow/),
    });
  });

  it('has a hint for every refusal an operator can fix, none for an accepted frame', () => {
    for (const reason of ['no-key', 'decryption-failed', 'bad-crc', 'bad-length', 'bad-timestamp', 'malformed', 'unknown-token'] as const) {
      expect(nakHint(reason, '1234')).toMatch(/\w/);
    }
    expect(nakHint('decryption-failed', '1234')).toContain('accounts["1234"].key');
    expect(nakHint('accepted', '1234')).toBeUndefined();
  });
});
