export { eventId, frameEventId } from './event-id.js';
export { mapFrame, zoneKey, type MappedEvent, type MapperConfig, type NotForwardedReason, type SourceFrame } from './map.js';
export { reviveSource, sourceFromDc09, sourceFromSurgard } from './source.js';
