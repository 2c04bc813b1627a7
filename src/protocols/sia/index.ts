/** SIA DCS (DC-03) data decoding: the code table and the data-block parser. */
export { SIA_CODES, lookupSiaCode } from './codes.js';
export type { SiaCodeInfo } from './codes.js';
export { parseSiaData } from './parse.js';
