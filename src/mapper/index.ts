export { eventId, frameEventId } from './event-id.js';
export type { SourceFrame } from './frame.js';
export { mapFrame, zoneKey, type MappedEvent, type MapperConfig } from './map.js';
export type { NotForwarded, NotForwardedReason } from './not-forwarded.js';
export { reviveSource, sourceFromDc09, sourceFromNative, sourceFromSurgard } from './source.js';
