/** Lupusec XT Contact ID over TCP (docs/contact-id.md §5): message parser and builder, stream framer. */
export {
  buildLupusecMessage,
  decodeLupusecForCli,
  parseLupusecMessage,
  LUPUSEC_ACK,
  LUPUSEC_MAX_SUBSCRIBER,
  LUPUSEC_NAK,
  type LupusecCliReport,
  type LupusecMessage,
  type LupusecMessageInput,
  type LupusecResult,
} from './message.js';
export { LupusecFramer, LUPUSEC_MAX_MESSAGE, type LupusecFramerOutput } from './framer.js';
