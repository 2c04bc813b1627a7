/**
 * A Partner Event API sink no delivery reaches (nothing listens on port 9 of the loopback): whichever instance
 * delivers, the events it retries stay pending in the stream, so a test can count them.
 */
export const UNDELIVERABLE_SINK = { type: 'partner-api', baseUrl: 'http://127.0.0.1:9', auth: { apiKey: 'test-key' } };
