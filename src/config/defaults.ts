/** Defaults the modules that use the configuration need outside the loader, taken from the key table. */
import { ACCOUNT_UPLOADS_KEYS, defaultsOf, SIGNAL_KEYS } from './keys.js';
import type { SignalConfig, UploadsConfig } from './types.js';

/** Alarms signal the monitoring center; troubles and arming events do not. */
export const DEFAULT_SIGNAL: Readonly<SignalConfig> = Object.freeze(defaultsOf(SIGNAL_KEYS));

/** No snapshot or video uploads. */
export const NO_UPLOADS: Readonly<UploadsConfig> = Object.freeze(defaultsOf(ACCOUNT_UPLOADS_KEYS));
