import type { XData } from '../protocols/dc09/types.js';
import type { PanelEvent } from '../protocols/events.js';

/** One received frame (DC-09, Sur-Gard record, Galaxy event block, Lupusec message) with its decoded events: the mapper's input. */
export interface SourceFrame {
  protocol: 'dc09' | 'surgard' | 'galaxy' | 'lupusec-cid';
  /** `SIA-DCS`, `ADM-CID`, `NULL`, … (Sur-Gard records use the DC-09 token of their payload). */
  token: string;
  encrypted: boolean;
  /** Routing account, upper-cased (header account, else data account). */
  account: string;
  receiver: string | null;
  line: string | null;
  sequence: string | null;
  data: string;
  xdata: readonly XData[];
  /** Panel timestamp, null when absent. */
  timestamp: Date | null;
  /** False when the panel clock was outside the window (the receipt time is used for event_time then). */
  timestampTrusted: boolean;
  /** H xdata time of occurrence, when sent. */
  occurredAt: Date | null;
  receivedAt: Date;
  peer: string | null;
  transport: 'tcp' | 'udp' | null;
  /** The frame as received, with C escapes. */
  raw: string;
  events: readonly PanelEvent[];
}
