export * from './types.js';
export { crc16arc, formatCrc } from './crc.js';
export { parseKey, randomPad, type PadSource } from './crypto.js';
export { formatTimestamp, parseTimestamp } from './timestamp.js';
export { parseFrame, detectHeader, dataAccountOf, MAX_BODY_LENGTH, type ParseOptions } from './parse.js';
export {
  buildRequest,
  buildAck,
  buildEncryptedAck,
  buildNak,
  buildDuh,
  frameBody,
  type RequestFrame,
  type FrameAddress,
  type FrameForm,
} from './build.js';
export { Dc09Framer, type FramerOutput, type FramerOptions } from './framer.js';
export { frameOfDatagram, type DatagramFrame } from './datagram.js';
export * from './reply.js';
export { describeXData, occurrenceTime, XDATA_NAMES, type DescribedXData } from './xdata.js';
