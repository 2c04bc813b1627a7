/**
 * Fair connection slots, shared by every TCP listener: at most `maxConnections` open at once. When they are all
 * taken, a source address holding less than its fair share (the cap divided by the sources, the newcomer counted)
 * gets the longest-idle connection of the source holding the most; any other newcomer is refused. So one address
 * opening thousands of connections cannot lock out a panel from another address. `maxPerSource` optionally caps one
 * address outright (off by default: many mobile panels share a few carrier addresses).
 */

export interface SlotHolder {
  /** The remote address. */
  readonly source: string;
  /** When it last received a frame or wrote a reply (monotonic milliseconds). */
  readonly lastActiveMs: number;
  /** True while frames wait for their reply: such a connection is not evicted (an ACK would be lost). */
  readonly busy: boolean;
}

export type Admission<T> =
  /** `evict`: a connection already released from its slot, which the caller closes. */
  { admit: true; evict: T | null } | { admit: false; reason: 'max-connections' | 'max-connections-per-source' };

export class ConnectionSlots<T extends SlotHolder> {
  private readonly bySource = new Map<string, Set<T>>();
  private count = 0;

  constructor(
    readonly maxConnections: number,
    readonly maxPerSource: number | null = null,
  ) {}

  /** Connections holding a slot. */
  get size(): number {
    return this.count;
  }

  /** Connections of one source holding a slot. */
  heldBy(source: string): number {
    return this.bySource.get(source)?.size ?? 0;
  }

  /**
   * Whether a new connection from `source` may take a slot, and which connection gives its slot up for it.
   * `perSource: false` leaves `maxPerSource` out (a load balancer's connection before it names its panel).
   */
  admit(source: string, { perSource = true } = {}): Admission<T> {
    const held = this.heldBy(source);
    if (perSource && this.maxPerSource !== null && held >= this.maxPerSource) return { admit: false, reason: 'max-connections-per-source' };
    if (this.count < this.maxConnections) return { admit: true, evict: null };
    const sources = this.bySource.size + (held === 0 ? 1 : 0);
    if (held >= Math.floor(this.maxConnections / sources)) return { admit: false, reason: 'max-connections' };
    // Under its share, so (the slots being full) the largest holder is above it: evicting there moves towards fair.
    const victim = this.longestIdle(this.largestHolder());
    if (!victim) return { admit: false, reason: 'max-connections' };
    this.release(victim);
    return { admit: true, evict: victim };
  }

  add(holder: T): void {
    let set = this.bySource.get(holder.source);
    if (!set) this.bySource.set(holder.source, (set = new Set()));
    set.add(holder);
    this.count++;
  }

  /** Gives the slot back (a no-op for a connection already released by an eviction). */
  release(holder: T): void {
    const set = this.bySource.get(holder.source);
    if (!set?.delete(holder)) return;
    this.count--;
    if (set.size === 0) this.bySource.delete(holder.source);
  }

  private largestHolder(): Set<T> {
    let largest: Set<T> | undefined;
    for (const set of this.bySource.values()) if (!largest || set.size > largest.size) largest = set;
    return largest!;
  }

  private longestIdle(set: Set<T>): T | null {
    let idlest: T | null = null;
    for (const holder of set) if (!holder.busy && (!idlest || holder.lastActiveMs < idlest.lastActiveMs)) idlest = holder;
    return idlest;
  }
}
