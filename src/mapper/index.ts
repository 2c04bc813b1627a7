export { classify, CATEGORY_TABLE, overrideKeys, type Classification } from './classify.js';
export { eventId, type EventIdInput } from './event-id.js';
export { mapFrame, eventSubjects, zoneKey, type MappedEvent, type MapperConfig, type NotForwardedReason, type SourceFrame } from './map.js';
export { reviveSource, sourceFromDc09, sourceFromSurgard, type ReceiptContext } from './source.js';
export { renderMappingTable } from './docs.js';
