/** Decode throughput: parse + payload decode + reply decision per frame, clear and AES-256. */
import { decodePayload } from '../src/protocols/decode.js';
import { buildRequest, decideReply, DEFAULT_WINDOW, parseFrame, type ReplyPolicy } from '../src/protocols/dc09/index.js';

export interface DecodeFigures {
  clearFramesPerSecond: number;
  aes256FramesPerSecond: number;
  clearWithReplyFramesPerSecond: number;
  aes256WithReplyFramesPerSecond: number;
}

function rate(frames: readonly Buffer[], work: (frame: Buffer) => void, seconds: number): number {
  for (let i = 0; i < 20_000; i++) work(frames[i % frames.length]!); // warm-up
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) work(frames[(count + i) % frames.length]!);
    count += 1000;
    now = process.hrtime.bigint();
  }
  return Math.round(count / (Number(now - start) / 1e9));
}

/** The reply policy of the bench's decode work: every account decrypts with `keys`, any timestamp is in the window. */
export function benchReplyPolicy(keys: Buffer[]): ReplyPolicy {
  const settings = { keys, timestampWindow: { pastSeconds: 1e9, futureSeconds: 1e9 } };
  return { account: () => settings, unknownAccounts: 'reject', badCrc: 'nak', clearTimestamps: 'flag', defaultWindow: DEFAULT_WINDOW };
}

export function benchDecode(seconds = 1.5): DecodeFigures {
  const key = Buffer.alloc(32, 0x5a);
  const now = new Date();
  const datas = ['#1234|Nri1/BA01', '#1234|Nri1/id3/CL1', '#1234|1130 01 015', '#1234|Nri2/FA12^Kitchen^'];
  const frames = (key?: Buffer) =>
    datas.map((data, i) =>
      buildRequest({
        token: data.includes(' ') ? 'ADM-CID' : 'SIA-DCS',
        sequence: String(i).padStart(4, '0'),
        receiver: '1',
        line: '1',
        account: '1234',
        data,
        timestamp: now,
        ...(key ? { key } : {}),
      }),
    );
  const clear = frames();
  const encrypted = frames(key);
  const keys = [key];
  const options = { keysFor: () => keys };
  const policy = benchReplyPolicy(keys);
  const clearPolicy: ReplyPolicy = { ...policy, account: () => ({ keys: [], timestampWindow: { pastSeconds: 1e9, futureSeconds: 1e9 } }) };
  let sink = 0;
  const decodeOnly = (frame: Buffer) => {
    const r = parseFrame(frame, options);
    if (r.ok) sink += decodePayload(r.message).events.length;
  };
  const withReply = (p: ReplyPolicy) => (frame: Buffer) => {
    const r = parseFrame(frame, options);
    if (r.ok) sink += decodePayload(r.message).events.length;
    sink += decideReply(r, p, { now }).frame?.length ?? 0;
  };
  const figures = {
    clearFramesPerSecond: rate(clear, decodeOnly, seconds),
    aes256FramesPerSecond: rate(encrypted, decodeOnly, seconds),
    clearWithReplyFramesPerSecond: rate(clear, withReply(clearPolicy), seconds),
    aes256WithReplyFramesPerSecond: rate(encrypted, withReply(policy), seconds),
  };
  if (sink === 0) throw new Error('benchmark decoded nothing');
  return figures;
}
