/**
 * Sur-Gard MLR2 / System I–IV automation output (docs/surgard.md): stream framer, record parser,
 * reply bytes and builders. Pure: the TCP listener feeds the framer and answers each record.
 */
export { SurgardFramer, type SurgardFramerOptions, type SurgardFramerOutput } from './framer.js';
export { splitGlued } from './glued.js';
export {
  decodeSurgardForCli,
  parseSurgardRecord,
  SURGARD_ACK,
  SURGARD_NAK,
  type SurgardCliReport,
  type SurgardErrorCode,
  type SurgardRecord,
  type SurgardResult,
} from './parse.js';
export {
  buildSurgardCid,
  buildSurgardHeartbeat,
  buildSurgardSia,
  withTerminator,
  type SurgardCidInput,
  type SurgardHeartbeatInput,
  type SurgardSiaInput,
  type SurgardTerminator,
} from './build.js';
