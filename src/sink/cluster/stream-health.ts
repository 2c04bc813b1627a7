/**
 * How the events stream looks from this instance (docs/cluster.md §9): reachable, its leader, how many copies are
 * current and so whether a quorum stores new messages, and what is pending. Refreshed from the stream's info at most
 * once a second by a timer, never on the path of a frame; status, readiness and the metrics read the last look.
 */
import type { StreamInfo } from '@nats-io/jetstream';

import { describeError } from '../../log.js';
import type { ClusterConnection } from './connection.js';

export interface StreamHealth {
  /** When this look was taken (ms since the epoch). */
  checkedAtMs: number;
  /** The stream answered its info request. */
  reachable: boolean;
  /** The server leading the stream's replicas (null when none, or on a server that is not clustered). */
  leader: string | null;
  /** Copies the stream keeps (`cluster.replicas` as the stream has it). */
  replicas: number;
  /** Copies up to date: the leader and the current followers. */
  current: number;
  /** A majority of the copies is current under a leader: a publish can be stored. */
  quorum: boolean;
  /** Messages in the stream: events taken and not yet finally handled (work-queue retention). */
  pending: number;
  /** Store time of the oldest of them (ms since the epoch), null when there are none. */
  oldestMs: number | null;
  /** What went wrong when the stream did not answer. */
  error: string | null;
}

/** Before the first look: nothing known, so nothing claimed. */
export const UNKNOWN_STREAM: StreamHealth = {
  checkedAtMs: 0,
  reachable: false,
  leader: null,
  replicas: 0,
  current: 0,
  quorum: false,
  pending: 0,
  oldestMs: null,
  error: 'not looked at yet',
};

/** What the stream's info says; a server outside a NATS cluster leads its only copy. */
export function healthFromInfo(info: StreamInfo, nowMs: number): StreamHealth {
  const replicas = info.config.num_replicas;
  const leader = info.cluster?.leader ?? null;
  const followers = (info.cluster?.replicas ?? []).filter((peer) => peer.current && !peer.offline).length;
  const clustered = info.cluster?.leader !== undefined || (info.cluster?.replicas?.length ?? 0) > 0;
  const current = clustered ? (leader === null ? 0 : 1 + followers) : replicas;
  const { messages, first_ts } = info.state;
  const oldest = messages > 0 ? Date.parse(first_ts) : Number.NaN;
  return {
    checkedAtMs: nowMs,
    reachable: true,
    leader,
    replicas,
    current,
    quorum: current >= Math.floor(replicas / 2) + 1,
    pending: messages,
    oldestMs: Number.isFinite(oldest) ? oldest : null,
    error: null,
  };
}

/** A stream that did not answer: no quorum can be claimed; the pending count is the last one known. */
export function unreachable(previous: StreamHealth, err: unknown, nowMs: number): StreamHealth {
  return { ...previous, checkedAtMs: nowMs, reachable: false, leader: null, current: 0, quorum: false, error: describeError(err) };
}

export interface StreamWatch {
  readonly last: StreamHealth;
  /** Looks at the stream now (one look at a time: a call while one is under way waits for it). */
  refresh(): Promise<StreamHealth>;
  stop(): void;
}

/** Looks at stream `name` every `intervalMs` (1 s) from now on. */
export function watchStream(connection: ClusterConnection, name: string, intervalMs = 1000, now: () => number = Date.now): StreamWatch {
  let last = UNKNOWN_STREAM;
  let looking: Promise<StreamHealth> | null = null;
  const refresh = () =>
    (looking ??= connection.jsm.streams
      .info(name)
      .then(
        (info) => healthFromInfo(info, now()),
        (err: unknown) => unreachable(last, err, now()),
      )
      .then((health) => {
        last = health;
        looking = null;
        return health;
      }));
  const timer = setInterval(() => void refresh(), intervalMs).unref();
  return {
    get last() {
      return last;
    },
    refresh,
    stop: () => clearInterval(timer),
  };
}
