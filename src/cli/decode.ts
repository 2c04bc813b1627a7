/** `alarm-bridge decode`: frames in, one JSON report per frame out (NDJSON). */
import type { CommandModule } from 'yargs';
import { decodePayload } from '../protocols/decode.js';
import {
  decideReply, DEFAULT_WINDOW, describeXData, formatCrc, parseFrame, type DescribedXData, type ParseResult, type ReplyDecision,
  type ReplyPolicy,
} from '../protocols/dc09/index.js';
import type { PanelEvent } from '../protocols/events.js';
import { decodeGalaxyForCli, GalaxyFramer, type GalaxyCliReport } from '../protocols/galaxy/index.js';
import { decodeLupusecForCli, LupusecFramer, type LupusecCliReport } from '../protocols/lupusec/index.js';
import { decodeSurgardForCli, SurgardFramer } from '../protocols/surgard/index.js';
import { escapeFrame, unescapeFrame } from '../protocols/escape.js';
import { clockFromArgs, frameInputs, keyFromArgs, withFrameInputOptions, type FrameInputArgs } from './frame-input.js';

export interface FrameReport {
  ok: boolean;
  token: string | null;
  encrypted: boolean | null;
  crc: { value: string; ok: boolean; form: 'ascii' | 'binary'; includesCr: boolean } | null;
  length: number | null;
  sequence: string | null;
  receiver: string | null;
  line: string | null;
  account: string | null;
  dataAccount: string | null;
  data: string | null;
  xdata: DescribedXData[];
  timestamp: string | null;
  events: PanelEvent[];
  dataError?: string;
  error?: { code: string; message: string };
  reply: { kind: ReplyDecision['kind']; reason: string; frame: string | null; skewSeconds: number | null; skewFlagged: boolean };
}

/** The JSON report of one parsed frame and the reply the policy chose. */
export function frameReport(result: ParseResult, decision: ReplyDecision): FrameReport {
  const reply = {
    kind: decision.kind,
    reason: decision.reason,
    frame: decision.frame ? escapeFrame(decision.frame) : null,
    skewSeconds: decision.skewSeconds,
    skewFlagged: decision.skewFlagged,
  };
  const m = result.ok ? result.message : result.error.partial;
  const crc = m.crc ? { value: formatCrc(m.crc.value), ok: m.crc.ok, form: m.crc.form, includesCr: m.crc.includesCr } : null;
  const base = {
    token: m.token ?? null,
    encrypted: m.encrypted ?? null,
    crc,
    length: m.length ?? null,
    sequence: m.sequence ?? null,
    receiver: m.receiver ?? null,
    line: m.line ?? null,
    account: m.account ?? null,
    dataAccount: m.dataAccount ?? null,
    data: m.data ?? null,
    xdata: (m.xdata ?? []).map(describeXData),
    timestamp: m.timestamp ? m.timestamp.toISOString() : null,
  };
  if (!result.ok) {
    return { ok: false, ...base, events: [], error: { code: result.error.code, message: result.error.message }, reply };
  }
  const payload = decodePayload(result.message);
  return { ok: true, ...base, events: payload.events, ...(payload.dataError ? { dataError: payload.dataError } : {}), reply };
}

/** The records in one input, as the Sur-Gard listener's framer would cut them (an unterminated tail included). */
function surgardRecords(bytes: Buffer): Buffer[] {
  const framer = new SurgardFramer();
  const records = framer.push(Buffer.concat([bytes, Buffer.from([0x14])])).records;
  return records.length > 0 ? records : [bytes];
}

/** Reports per input for the native TCP formats, cut like their listeners cut the stream. */
const NATIVE_FORMATS: Readonly<Record<'galaxy' | 'lupusec-cid', (bytes: Buffer) => Array<GalaxyCliReport | LupusecCliReport>>> = {
  galaxy: (bytes) => {
    const blocks = new GalaxyFramer().push(bytes).blocks;
    return (blocks.length > 0 ? blocks : [bytes]).map(decodeGalaxyForCli);
  },
  'lupusec-cid': (bytes) => {
    const messages = new LupusecFramer().push(bytes).messages;
    return (messages.length > 0 ? messages : [bytes]).map(decodeLupusecForCli);
  },
};

/** The policy `decode` answers with: every account accepted, clear text allowed, default window. */
export const DECODE_POLICY: ReplyPolicy = {
  account: () => null,
  unknownAccounts: 'accept',
  badCrc: 'nak',
  clearTimestamps: 'flag',
  defaultWindow: DEFAULT_WINDOW,
};

export function decodeFrame(bytes: Buffer, key: Buffer | null, now: Date): FrameReport {
  const result = parseFrame(bytes, { keysFor: () => (key ? [key] : null) });
  return frameReport(result, decideReply(result, DECODE_POLICY, { now }));
}

type DecodeArgs = FrameInputArgs & { format?: 'dc09' | 'surgard' | 'galaxy' | 'lupusec-cid'; exitCode?: number };

export const decodeCommand: CommandModule<object, DecodeArgs> = {
  command: 'decode [frames..]',
  describe: 'decode DC-09 frames (or Sur-Gard records, Galaxy blocks, Lupusec messages) and print one JSON report per input, with the reply the receiver would send',
  builder: (y) =>
    withFrameInputOptions(y).option('format', { choices: ['dc09', 'surgard', 'galaxy', 'lupusec-cid'] as const, default: 'dc09' as const, describe: 'dc09 frames, Sur-Gard MLR2/System records, Galaxy native SIA blocks or Lupusec Contact ID messages' }) as never,
  handler: async (argv) => {
    const key = keyFromArgs(argv);
    const now = clockFromArgs(argv);
    let allOk = true;
    for await (const input of frameInputs(argv.frames)) {
      // Sur-Gard input is split like the listener splits it (DC4/CR terminators, glued copies): a report per record.
      const format = argv.format ?? 'dc09';
      const reports = format === 'surgard' ? surgardRecords(unescapeFrame(input.text)).map(decodeSurgardForCli)
        : format === 'dc09' ? [decodeFrame(input.bytes, key, now)]
        : NATIVE_FORMATS[format](unescapeFrame(input.text));
      for (const report of reports) {
        allOk &&= report.ok;
        process.stdout.write(`${JSON.stringify(report)}\n`);
      }
    }
    argv.exitCode = allOk ? 0 : 1;
  },
};
