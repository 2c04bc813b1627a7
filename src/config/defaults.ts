/** Defaults and value lists shared by the config loader and the modules that use the configuration. */
import type { SignalConfig, UploadsConfig } from './types.js';

/** Alarms signal the monitoring center; troubles and arming events do not. */
export const DEFAULT_SIGNAL: Readonly<SignalConfig> = Object.freeze({ alarm: true, trouble: false, arming: false });

/** No snapshot or video uploads. */
export const NO_UPLOADS: Readonly<UploadsConfig> = Object.freeze({ snapshots: 0, shortMp4: false, eventMp4: false });

/** Signature algorithms of the JWT client assertion (`sink.auth.algorithm`). */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'PS256'] as const;
