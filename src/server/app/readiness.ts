/**
 * `/readyz`: listeners bound, outbox writable and accepting (or, in cluster mode, NATS connected and the events stream
 * with a quorum), last delivery and token exchange not failing.
 */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { BridgeConfig } from '../../config/types.js';
import type { ClusterLog } from '../../sink/cluster/cluster-log.js';
import { QUARANTINE_DIR, type JournalDamageReport, type OutboxDamageReport } from '../../sink/outbox/index.js';
import type { Readiness, ReadinessCheck } from '../ops/status-types.js';
import type { DeliveryHealth, RunningBridge } from './bridge.js';

/** The check of the last delivery: failing while the last outcome was a retry or a refusal. */
export function deliveryCheck(last: NonNullable<DeliveryHealth['lastDelivery']>): ReadinessCheck {
  const { outcome } = last;
  const ok = outcome.kind === 'accepted' || outcome.kind === 'discarded';
  return { ok, detail: `${ok ? outcome.kind : `${outcome.kind}: ${outcome.reason}`} at ${new Date(last.atMs).toISOString()}` };
}

/**
 * Damaged journal bytes skipped at start, duplicated event records skipped, records unreadable at delivery:
 * degraded, not down (every readable event is delivered).
 */
export function journalDamageCheck(damage: JournalDamageReport & Partial<OutboxDamageReport>, dir: string): ReadinessCheck | null {
  const duplicates = damage.duplicateEvents ?? 0;
  const unreadable = damage.unreadableEvents ?? 0;
  if (damage.ranges === 0 && duplicates === 0 && unreadable === 0) return null;
  const unknown =
    damage.uncountedRanges > 0 ? ` (and an unknown number in ${damage.uncountedRanges} range(s) no commit marker follows)` : '';
  const parts =
    damage.ranges > 0
      ? [
          `${damage.lostEvents} event(s)${unknown} lost in ${damage.bytes} damaged journal bytes found at start; copies in ${join(dir, QUARANTINE_DIR)}`,
        ]
      : [];
  if (duplicates > 0) parts.push(`${duplicates} event record(s) with a sequence number seen before skipped at start`);
  if (unreadable > 0) parts.push(`${unreadable} pending event(s) unreadable at delivery, moved to the dead letters`);
  return { ok: true, degraded: true, detail: parts.join('; ') };
}

/**
 * Cluster mode (docs/cluster.md §9): `nats` and `stream` fail while frames would be NAKed (disconnected, or the
 * stream without a quorum of current copies); `role` and `pending` inform.
 */
export function clusterChecks(cluster: ClusterLog): Record<string, ReadinessCheck> {
  const { connected, server, stream, publishProblem } = cluster.health();
  const copies = `${stream.current}/${stream.replicas} copies current`;
  const streamDetail = !connected
    ? 'not reachable: NATS disconnected'
    : !stream.reachable
      ? `not reachable: ${stream.error ?? 'no answer'}`
      : `leader ${stream.leader ?? '(none)'}, ${copies}, ${stream.quorum ? 'quorum' : 'no quorum'}`;
  const { depth, oldestAgeSeconds } = cluster.status();
  return {
    nats: { ok: connected, detail: connected ? `connected to ${server ?? 'a server'}` : 'disconnected (reconnecting)' },
    stream: {
      ok: connected && stream.reachable && stream.quorum,
      detail: publishProblem === null ? streamDetail : `${streamDetail}; last publish: ${publishProblem}`,
    },
    role: { ok: true, detail: `${cluster.runtime.config.instance} ${cluster.runtime.role.current}` },
    pending: { ok: true, detail: depth > 0 ? `${depth} event(s), oldest ${Math.round(oldestAgeSeconds)} s` : '0 events' },
  };
}

export async function readiness(config: BridgeConfig, bridge: RunningBridge): Promise<Readiness> {
  const checks: Record<string, ReadinessCheck> = {
    listeners: { ok: bridge.listeners.length > 0, detail: `${bridge.listeners.length} bound` },
  };
  if (config.outbox && bridge.outbox) {
    const { state, damage } = bridge.outbox.status();
    const writable = await access(config.outbox.dir, constants.W_OK).then(
      () => null,
      (e: unknown) => String(e),
    );
    checks.outbox = { ok: writable === null && state === 'running', detail: writable ?? `state ${state}` };
    const journal = journalDamageCheck(damage, config.outbox.dir);
    if (journal) checks.journal = journal;
  }
  if (bridge.cluster) Object.assign(checks, clusterChecks(bridge.cluster));
  const { lastDelivery, lastToken } = bridge.health;
  if (lastDelivery) checks.delivery = deliveryCheck(lastDelivery);
  if (lastToken) checks.token = { ok: lastToken.ok, detail: `${lastToken.ok ? 'obtained' : 'failed'} at ${lastToken.at}` };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}
