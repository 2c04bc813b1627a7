/**
 * Honeywell Galaxy native "SIA over IP" (docs/sia-dcs.md §4): DC-03 blocks over TCP. Pure: block builder
 * and parser, stream framer, and what each block means for a receiver session.
 */
export {
  buildGalaxyBlock,
  galaxyBlockLength,
  galaxyParity,
  isGalaxyHeader,
  parseGalaxyBlock,
  GALAXY_ACK,
  GALAXY_FUNCTION,
  GALAXY_MAX_DATA,
  GALAXY_REJECT,
  type GalaxyBlock,
  type GalaxyBlockResult,
} from './block.js';
export { GalaxyFramer, type GalaxyFramerOutput } from './framer.js';
export { decodeGalaxyForCli, readGalaxyBlock, type GalaxyCliReport, type GalaxyMessage } from './session.js';
