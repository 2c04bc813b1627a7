/** The events stream's health as readiness and status read it (docs/cluster.md §9): copies current, quorum, pending. */
import type { StreamInfo } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { healthFromInfo, UNKNOWN_STREAM, unreachable } from '../../../src/sink/cluster/stream-health.js';

const NOW = Date.UTC(2026, 11, 2, 9, 0, 0);
const peer = (name: string, current: boolean, offline = false) => ({ name, current, offline, active: 0, lag: 0 });

function info(replicas: number, cluster: StreamInfo['cluster'], messages = 0, firstTs = '0001-01-01T00:00:00Z'): StreamInfo {
  return { config: { num_replicas: replicas }, cluster, state: { messages, first_ts: firstTs } } as unknown as StreamInfo;
}

describe('stream health', () => {
  it.each([
    ['R3, every copy current', info(3, { leader: 'n1', replicas: [peer('n2', true), peer('n3', true)] }), 3, true],
    ['R3, one server gone', info(3, { leader: 'n1', replicas: [peer('n2', true), peer('n3', false, true)] }), 2, true],
    ['R3, one follower behind', info(3, { leader: 'n2', replicas: [peer('n1', false), peer('n3', true)] }), 2, true],
    ['R3, two servers gone', info(3, { leader: 'n1', replicas: [peer('n2', false, true), peer('n3', false, true)] }), 1, false],
    ['R3, no leader', info(3, { replicas: [peer('n2', true), peer('n3', true)] }), 0, false],
    ['R1 on a clustered server', info(1, { name: 'c', leader: 'n1' }), 1, true],
    ['R1 on a server outside a cluster', info(1, undefined), 1, true],
  ])('%s', (_name, streamInfo, current, quorum) => {
    expect(healthFromInfo(streamInfo, NOW)).toMatchObject({ reachable: true, current, quorum, checkedAtMs: NOW, error: null });
  });

  it('counts the pending messages and the time of the oldest', () => {
    const health = healthFromInfo(info(1, undefined, 4, '2026-12-02T08:59:30.5Z'), NOW);
    expect(health).toMatchObject({ pending: 4, oldestMs: NOW - 29_500 });
    expect(healthFromInfo(info(1, undefined, 0), NOW)).toMatchObject({ pending: 0, oldestMs: null });
  });

  it('a stream that does not answer has no quorum and keeps the last pending count', () => {
    const before = healthFromInfo(info(3, { leader: 'n1', replicas: [peer('n2', true), peer('n3', true)] }, 7), NOW);
    expect(unreachable(before, new Error('TIMEOUT'), NOW + 1000)).toEqual({
      ...before,
      checkedAtMs: NOW + 1000,
      reachable: false,
      leader: null,
      current: 0,
      quorum: false,
      error: 'Error: TIMEOUT',
    });
    expect(UNKNOWN_STREAM.quorum).toBe(false);
  });
});
