/** `alarm-bridge decode`: frames in, one JSON report per frame out (NDJSON). */
export { DECODE_POLICY, frameReport, type FrameReport } from '../protocols/report.js';
import type { CommandModule } from 'yargs';
import { decideReply, parseFrame } from '../protocols/dc09/index.js';
import { decodeGalaxyForCli, GalaxyFramer, type GalaxyCliReport } from '../protocols/galaxy/index.js';
import { decodeLupusecForCli, LupusecFramer, type LupusecCliReport } from '../protocols/lupusec/index.js';
import { decodeSurgardForCli, SurgardFramer } from '../protocols/surgard/index.js';
import { unescapeFrame } from '../protocols/escape.js';
import { DECODE_POLICY, frameReport, type FrameReport } from '../protocols/report.js';
import { clockFromArgs, frameInputs, keyFromArgs, withFrameInputOptions, type FrameInputArgs } from './frame-input.js';

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

export function decodeFrame(bytes: Buffer, key: Buffer | null, now: Date): FrameReport {
  const result = parseFrame(bytes, { keysFor: () => (key ? [key] : null) });
  return frameReport(result, decideReply(result, DECODE_POLICY, { now }));
}

type DecodeArgs = FrameInputArgs & { format?: 'dc09' | 'surgard' | 'galaxy' | 'lupusec-cid'; exitCode?: number };

export const decodeCommand: CommandModule<object, DecodeArgs> = {
  command: 'decode [frames..]',
  describe:
    'decode DC-09 frames (or Sur-Gard records, Galaxy blocks, Lupusec messages) and print one JSON report per input, with the reply the receiver would send',
  builder: (y) =>
    withFrameInputOptions(y).option('format', {
      choices: ['dc09', 'surgard', 'galaxy', 'lupusec-cid'] as const,
      default: 'dc09' as const,
      describe: 'dc09 frames, Sur-Gard MLR2/System records, Galaxy native SIA blocks or Lupusec Contact ID messages',
    }) as never,
  handler: async (argv) => {
    const key = keyFromArgs(argv);
    const now = clockFromArgs(argv);
    let allOk = true;
    for await (const input of frameInputs(argv.frames)) {
      // Sur-Gard input is split like the listener splits it (DC4/CR terminators, glued copies): a report per record.
      const format = argv.format ?? 'dc09';
      const reports =
        format === 'surgard'
          ? surgardRecords(unescapeFrame(input.text)).map(decodeSurgardForCli)
          : format === 'dc09'
            ? [decodeFrame(input.bytes, key, now)]
            : NATIVE_FORMATS[format](unescapeFrame(input.text));
      for (const report of reports) {
        allOk &&= report.ok;
        process.stdout.write(`${JSON.stringify(report)}\n`);
      }
    }
    argv.exitCode = allOk ? 0 : 1;
  },
};
