/** Defaults shared by the config loader and the mapper (an account the config does not name gets these too). */
import type { SignalConfig, UploadsConfig } from './types.js';

/** Alarms signal the monitoring center; troubles and arming events do not. */
export const DEFAULT_SIGNAL: Readonly<SignalConfig> = Object.freeze({ alarm: true, trouble: false, arming: false });

/** No snapshot or video uploads. */
export const NO_UPLOADS: Readonly<UploadsConfig> = Object.freeze({ snapshots: 0, shortMp4: false, eventMp4: false });
