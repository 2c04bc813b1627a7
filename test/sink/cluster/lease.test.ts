/** The delivery lease against a real nats-server on loopback (docs/cluster.md §5). */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterRuntime } from '../../../src/sink/cluster/cluster-log.js';
import { DeliveryLease, readLease } from '../../../src/sink/cluster/lease.js';
import type { Timers } from '../../../src/sink/scheduler.js';
import { silentLogger } from '../outbox/helpers.js';
import { clusterConfig, openRuntime, until, natsForFile } from './helpers.js';

const nats = natsForFile();
let opened: ClusterRuntime[] = [];
let leases: DeliveryLease[] = [];
let streamNo = 0;
afterEach(async () => {
  await Promise.allSettled(leases.map((l) => l.stop()));
  await Promise.allSettled(opened.map((r) => r.connection.close()));
  leases = [];
  opened = [];
});

/** Two instances' runtimes on their own connections, sharing one (fresh) state bucket. */
async function twoInstances(): Promise<[ClusterRuntime, ClusterRuntime]> {
  const stream = `LEASE_${++streamNo}`;
  const a = await openRuntime(clusterConfig(nats().urls, 'bridge-a', stream));
  const b = await openRuntime(clusterConfig(nats().urls, 'bridge-b', stream));
  opened.push(a, b);
  return [a, b];
}

function lease(runtime: ClusterRuntime, extra: Partial<ConstructorParameters<typeof DeliveryLease>[0]> = {}): DeliveryLease {
  const l = new DeliveryLease({
    kv: runtime.stores.state,
    instance: runtime.config.instance,
    role: runtime.role,
    logger: silentLogger,
    ...extra,
  });
  leases.push(l);
  return l;
}

/** A clock the test moves; timers never fire (the test calls `check`). */
function manualClock(): Timers & { advance(ms: number): void } {
  let now = 1_000_000;
  return { now: () => now, set: () => null, clear: () => undefined, advance: (ms) => void (now += ms) };
}

describe('delivery lease', () => {
  it('of two instances competing, exactly one delivers at any time', async () => {
    const [a, b] = await twoInstances();
    lease(a).start();
    lease(b).start();
    await until(() => a.role.delivering || b.role.delivering, 5_000, 'one instance delivers');
    const end = Date.now() + 3_000;
    while (Date.now() < end) {
      expect(Number(a.role.delivering) + Number(b.role.delivering)).toBe(1);
      await new Promise((r) => setTimeout(r, 50));
    }
    const holder = await readLease(a.stores.state);
    expect(holder?.instance).toBe(a.role.delivering ? 'bridge-a' : 'bridge-b');
  }, 20_000);

  it('a standby takes over only after the revision stood still for the lease time on its own clock', async () => {
    const [a, b] = await twoInstances();
    const clockA = manualClock();
    const clockB = manualClock();
    const holder = lease(a, { timers: clockA });
    const standby = lease(b, { timers: clockB });
    await holder.check();
    expect(a.role.delivering).toBe(true);
    await standby.check(); // sees the holder's revision
    clockB.advance(8_000);
    await standby.check();
    expect(b.role.delivering).toBe(false);
    // The holder renews: the revision moves and the standby's watch starts again.
    clockA.advance(2_000);
    await holder.check();
    clockB.advance(2_000);
    await standby.check();
    clockB.advance(8_999);
    await standby.check();
    expect(b.role.delivering).toBe(false);
    clockB.advance(1);
    await standby.check();
    expect(b.role.delivering).toBe(true);
    expect((await readLease(b.stores.state))?.instance).toBe('bridge-b');
    // The old holder's next renewal finds the revision moved: it stops delivering at once.
    clockA.advance(2_000);
    await holder.check();
    expect(a.role.delivering).toBe(false);
    expect(holder.holding).toBe(false);
  }, 20_000);

  it('a holder that cannot renew stops delivering after 2/3 of the lease time, and resumes when its revision still stands', async () => {
    const [a] = await twoInstances();
    const clock = manualClock();
    const holder = lease(a, { timers: clock });
    await holder.check();
    expect(a.role.delivering).toBe(true);
    const kv = a.stores.state;
    const update = kv.update.bind(kv);
    kv.update = () => Promise.reject(new Error('NATS unreachable'));
    clock.advance(2_000);
    await holder.check();
    expect(a.role.delivering).toBe(true);
    clock.advance(3_999);
    await holder.check();
    expect(a.role.delivering).toBe(true);
    clock.advance(1);
    await holder.check();
    expect(a.role.delivering).toBe(false);
    expect(holder.holding).toBe(true);
    kv.update = update;
    await holder.check();
    expect(a.role.delivering).toBe(true);
  }, 20_000);

  it('the holder whose connection closes is replaced within 15 s', async () => {
    const [a, b] = await twoInstances();
    lease(a).start();
    await until(() => a.role.delivering, 5_000, 'a delivers');
    lease(b).start();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.role.delivering).toBe(false);
    const died = Date.now();
    await a.connection.nc.close();
    await until(() => b.role.delivering, 15_000, 'b takes over');
    expect(Date.now() - died).toBeLessThan(15_000);
    expect((await readLease(b.stores.state))?.instance).toBe('bridge-b');
  }, 30_000);

  it('a graceful stop releases the lease and the standby takes over at once', async () => {
    const [a, b] = await twoInstances();
    const first = lease(a);
    first.start();
    await until(() => a.role.delivering, 5_000, 'a delivers');
    lease(b).start();
    await first.stop();
    expect(a.role.delivering).toBe(false);
    // Deleted, or already taken by b: no longer a's.
    expect((await readLease(a.stores.state))?.instance ?? null).not.toBe('bridge-a');
    // Well under the 9 s a standby waits when the holder dies without releasing.
    await until(() => b.role.delivering, 5_000, 'b takes over at once');
  }, 20_000);

  it('a stop during a renewal waits for it and releases the renewed revision', async () => {
    const [a] = await twoInstances();
    const clock = manualClock();
    const holder = lease(a, { timers: clock });
    await holder.check();
    clock.advance(2_000);
    const renewal = holder.check();
    await holder.stop();
    await renewal;
    expect(a.role.delivering).toBe(false);
    // Deleted, or already taken by b: no longer a's.
    expect((await readLease(a.stores.state))?.instance ?? null).not.toBe('bridge-a');
  }, 20_000);
});
