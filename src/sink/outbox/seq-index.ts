/**
 * Live events by sequence number, ascending (issue #15: bounded memory). What a `Map<number, E>` did for the
 * ledger, at about 16 bytes an event instead of about 40: two parallel arrays, the sequence numbers (kept when an
 * event leaves, so a lookup is a binary search that never meets a gap) and the events (a gap where one left).
 * Gaps are squeezed out once they outnumber the events. Sequence numbers arrive ascending (recovery reads them in
 * journal order, new events get the next one); one that does not is inserted in place.
 */
export class SeqIndex<E> {
  private seqs: number[] = [];
  private items: (E | undefined)[] = [];
  /** Index of the first slot that may hold an event. */
  private head = 0;
  private count = 0;
  /** Bumped whenever slots move (an insert in place, a compaction): iterators then look their place up again. */
  private layout = 0;

  get size(): number {
    return this.count;
  }

  /** The first index whose sequence number is >= `seq`. */
  private lowerBound(seq: number): number {
    let lo = this.head;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(seq: number): number {
    const i = this.lowerBound(seq);
    return i < this.seqs.length && this.seqs[i] === seq && this.items[i] !== undefined ? i : -1;
  }

  get(seq: number): E | undefined {
    const i = this.indexOf(seq);
    return i < 0 ? undefined : this.items[i];
  }

  has(seq: number): boolean {
    return this.indexOf(seq) >= 0;
  }

  set(seq: number, item: E): this {
    const last = this.seqs.length - 1;
    if (last < this.head || seq > this.seqs[last]!) {
      this.seqs.push(seq);
      this.items.push(item);
      this.count++;
      return this;
    }
    const i = this.lowerBound(seq);
    if (this.seqs[i] === seq) {
      if (this.items[i] === undefined) this.count++;
      this.items[i] = item;
    } else {
      this.seqs.splice(i, 0, seq);
      this.items.splice(i, 0, item);
      this.layout++;
      this.count++;
    }
    return this;
  }

  delete(seq: number): boolean {
    const i = this.indexOf(seq);
    if (i < 0) return false;
    this.items[i] = undefined;
    this.count--;
    while (this.head < this.items.length && this.items[this.head] === undefined) this.head++;
    if (this.items.length - this.head - this.count > this.count + 1024) this.compact();
    return true;
  }

  private compact(): void {
    const seqs: number[] = [];
    const items: E[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      if (item === undefined) continue;
      seqs.push(this.seqs[i]!);
      items.push(item);
    }
    this.seqs = seqs;
    this.items = items;
    this.head = 0;
    this.layout++;
  }

  /** Slots holding an event, ascending. Safe while events are added and deleted (moved slots are looked up again). */
  private *slots(): IterableIterator<number> {
    let after = Number.NEGATIVE_INFINITY;
    let i = this.head;
    let layout = this.layout;
    for (; ; i++) {
      if (layout !== this.layout) {
        layout = this.layout;
        i = this.lowerBound(after);
        if (i < this.seqs.length && this.seqs[i] === after) i++;
      }
      if (i < this.head) i = this.head;
      while (i < this.items.length && this.items[i] === undefined) i++;
      if (i >= this.items.length) return;
      after = this.seqs[i]!;
      yield i;
    }
  }

  /** [seq, event] in ascending order. */
  *entries(): IterableIterator<[number, E]> {
    for (const i of this.slots()) yield [this.seqs[i]!, this.items[i]!];
  }

  *values(): IterableIterator<E> {
    for (const i of this.slots()) yield this.items[i]!;
  }

  *keys(): IterableIterator<number> {
    for (const i of this.slots()) yield this.seqs[i]!;
  }
}
