/**
 * How fast this machine's cores run right now (docs/performance.md §9): the same fixed CPU-bound work, timed just
 * before and just after each phase in the bench process — parsing and decrypting an AES-128 frame and building its
 * encrypted ACK, as `decode` does — reported as µs per frame, the fastest of several short repetitions (the fastest is
 * the one nothing interrupted). The host behind this virtual machine changes speed from one minute to the next (the
 * limit has answered 37,000 and 72,000 frames/s on the same day), and neither the load average nor
 * `/proc/pressure/cpu` inside the machine shows it: a phase whose figure is well above another's ran on slower cores.
 * It samples the phase's two edges only; the speed within the phase may differ.
 */
import { buildRequest, decideReply, parseFrame } from '../src/protocols/dc09/index.js';
import { decodePayload } from '../src/protocols/decode.js';
import { benchReplyPolicy } from './decode.js';
import { BENCH_KEY_HEX, round } from './setup.js';

const REPETITIONS = 7;
/** Untimed repetitions first: the first calls in a process run code the JIT has not optimised yet. */
const WARM_UP = 3;
const FRAMES_PER_REPETITION = 1_000;

const key = Buffer.from(BENCH_KEY_HEX, 'hex');
const keys = [key];
const now = new Date();
const frame = buildRequest({
  token: 'SIA-DCS',
  sequence: '0001',
  line: '0',
  account: 'SIM0001',
  data: '#SIM0001|Nri1/BA1',
  timestamp: now,
  key,
});
const policy = benchReplyPolicy(keys);
const options = { keysFor: () => keys };

/** µs per frame of the fixed work: the fastest of the repetitions. */
export function measureMachineSpeed(): number {
  let fastest = Number.POSITIVE_INFINITY;
  let answered = 0;
  for (let r = -WARM_UP; r < REPETITIONS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < FRAMES_PER_REPETITION; i++) {
      const parsed = parseFrame(frame, options);
      if (parsed.ok) answered += decodePayload(parsed.message).events.length;
      if (decideReply(parsed, policy, { now }).kind === 'ACK') answered++;
    }
    if (r >= 0) fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1000 / FRAMES_PER_REPETITION);
  }
  if (answered !== 2 * (REPETITIONS + WARM_UP) * FRAMES_PER_REPETITION)
    throw new Error('machine-speed work did not decode and ACK every frame');
  return round(fastest, 2);
}
