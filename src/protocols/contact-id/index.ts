/**
 * Ademco Contact ID (SIA DC-05): code table, qualifier semantics, checksum, decoders and builders.
 */

export { CID_CODES, lookupCidCode, type CidAddressKind, type CidBaseCategory, type CidCodeInfo } from './codes.js';
export { cidCategory, normaliseQualifier, type CidQualifier } from './qualifier.js';
export { cidCheckDigit, cidChecksum, cidDigitsSumOk, cidDigitValue, isCidChecksumValid } from './checksum.js';
export { toCidEvent, type CidEventFields } from './event.js';
export { buildCidDtmf, formatCidData, type CidDataInput, type CidDtmfInput, type CidEventInput } from './format.js';
export { parseCidData, parseCidDtmf, parseCidMessage, type CidDtmfParseResult } from './parse.js';
