/** What the queue orders by: higher priority first, then the earlier deadline, then arrival (FIFO). */
export interface QueueKey {
  priority: number;
  /** Epoch ms; Infinity when the request has none. */
  deadline: number;
  /** Arrival order; unique per batcher. */
  seq: number;
  enqueuedAt: number;
}

/** > 0 when `a` should run before `b`. */
export function compareKeys(a: QueueKey, b: QueueKey): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.deadline !== b.deadline) return a.deadline < b.deadline ? 1 : -1;
  return b.seq - a.seq;
}

/**
 * Pending requests kept sorted, best last, so taking the next one is a pop. Queues hold at most
 * the batcher's item limit, so an insert's O(n) splice costs less than a heap's bookkeeping for
 * removing cancelled entries from the middle.
 */
export class RequestQueue<E extends QueueKey> {
  private readonly entries: E[] = [];

  get length(): number {
    return this.entries.length;
  }

  push(entry: E): void {
    this.entries.splice(this.indexFor(entry), 0, entry);
  }

  peek(): E | undefined {
    return this.entries[this.entries.length - 1];
  }

  pop(): E | undefined {
    return this.entries.pop();
  }

  remove(entry: E): boolean {
    const at = this.indexFor(entry);
    if (this.entries[at] !== entry) return false;
    this.entries.splice(at, 1);
    return true;
  }

  /** Smallest enqueue time (the wait of the oldest item), Infinity when empty. */
  oldestEnqueuedAt(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const e of this.entries) if (e.enqueuedAt < min) min = e.enqueuedAt;
    return min;
  }

  earliestDeadline(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const e of this.entries) if (e.deadline < min) min = e.deadline;
    return min;
  }

  /** First index whose entry runs after-or-with `entry`'s rank, i.e. where it belongs (ascending rank). */
  private indexFor(entry: E): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.entries[mid] as E;
      if (compareKeys(e, entry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
