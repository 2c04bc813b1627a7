/**
 * A panel with several receiver addresses, as installers configure them (a primary and backups): it sends its
 * frames one at a time on a kept-open TCP connection and, when the connection is lost, a frame is NAKed or left
 * unanswered, resends the same frame (same timestamp, so the same event id) to the next address in its list.
 */
import { buildRequest } from '../../src/protocols/dc09/index.js';
import { TcpPanel, text } from '../server/harness.js';

export interface SentFrame {
  account: string;
  /** 1-based position in the panel's sequence; also the zone of its alarm (one event per frame). */
  n: number;
  /** The receiver (index in the address list) that ACKed it. */
  ackedBy: number;
}

export interface FailoverPanelOptions {
  account: string;
  /** Receiver TCP ports on 127.0.0.1, in the panel's order of preference from `first` on. */
  ports: () => readonly number[];
  first: number;
  frames: number;
  /** Pause between an ACK and the next frame. */
  intervalMs: number;
  /** A frame unanswered this long is sent to the next receiver. */
  replyTimeoutMs: number;
  /** Called on every ACK (the test counts progress with it). */
  onAck(frame: SentFrame): void;
  /** Pause before sending a frame again after a NAK, a timeout or a lost connection (panels wait between tries). */
  retryDelayMs?: number;
  /** Gives up on a frame after trying it this long (the test then fails with the panel's last reply). */
  giveUpAfterMs?: number;
}

export interface PanelRun {
  acked: SentFrame[];
  naks: number;
  /** Frames sent again to the next receiver after a NAK, a timeout or a lost connection. */
  failovers: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The panel's SIA DCS frame n: an alarm on zone n, timestamped (DC-09's retransmission rules rely on it). */
export function panelFrame(account: string, n: number, timestamp: Date): Buffer {
  return buildRequest({
    token: 'SIA-DCS',
    sequence: String(n).padStart(4, '0'),
    line: '0',
    account,
    data: `#${account}|Nri1/BA${n}`,
    timestamp,
  });
}

export async function runFailoverPanel(options: FailoverPanelOptions): Promise<PanelRun> {
  const { account, frames, replyTimeoutMs } = options;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const giveUpAfterMs = options.giveUpAfterMs ?? 60_000;
  const run: PanelRun = { acked: [], naks: 0, failovers: 0 };
  let target = options.first;
  let link: TcpPanel | null = null;
  const moveOn = async () => {
    link?.socket.destroy();
    link = null;
    target = (target + 1) % options.ports().length;
    run.failovers++;
    await sleep(retryDelayMs);
  };
  try {
    for (let n = 1; n <= frames; n++) {
      const frame = panelFrame(account, n, new Date());
      let lastReply: string | null = null;
      const firstTry = Date.now();
      for (;;) {
        if (Date.now() - firstTry > giveUpAfterMs)
          throw new Error(`panel ${account}: frame ${n} not ACKed within ${giveUpAfterMs} ms (last reply ${JSON.stringify(lastReply)})`);
        if (link === null || link.closed) {
          link = await TcpPanel.open(options.ports()[target]!).catch(() => null);
          if (link === null) {
            await moveOn();
            continue;
          }
        }
        const before = link.replies.length;
        link.write(frame);
        const replies = await link.waitForReplies(before + 1, replyTimeoutMs).catch(() => null);
        const reply = replies && replies.length > before ? text(replies[before]) : null;
        lastReply = reply;
        if (reply?.includes('"ACK"')) {
          const sent = { account, n, ackedBy: target };
          run.acked.push(sent);
          options.onAck(sent);
          break;
        }
        if (reply?.includes('"NAK"')) run.naks++;
        await moveOn();
      }
      await sleep(options.intervalMs);
    }
  } finally {
    (link as TcpPanel | null)?.end();
  }
  return run;
}
