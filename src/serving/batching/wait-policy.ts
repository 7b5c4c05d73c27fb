/** What the policy reads of the queue. */
export interface QueueTimes {
  /** When the oldest queued request arrived (ms, the batcher's clock). */
  oldestEnqueuedAt(): number;
  /** The earliest deadline in the queue (ms; +∞ when none has one). */
  earliestDeadline(): number;
}

/**
 * When a batcher starts a batch with less than a full one queued (docs/serving.md, Batching):
 * adaptive, it waits another event-loop turn only while requests keep arriving; fixed (Triton's
 * policy), it waits up to `maxDelayMs` for the oldest request. Either way it stops waiting in time
 * for the earliest deadline. It also keeps what finished model calls teach: their mean duration
 * and whether the last one held a single request (low load, where `runExclusive` may skip the queue).
 */
export class WaitPolicy {
  /** Mean model-call duration (ms), exponentially weighted; 0 before the first call. */
  runMsAverage = 0;
  /** Whether the last model call held one request. */
  lastCallSingle = false;
  private arrivals = 0;
  private seenArrivals = 0;
  private waiting = false;

  constructor(
    private readonly maxDelayMs: number,
    private readonly adaptive: boolean,
  ) {}

  /** A request joined the queue. */
  arrived(): void {
    this.arrivals++;
  }

  /** A request ran at once, without the queue: nothing queued is left unseen. */
  ranAlone(): void {
    this.arrivals++;
    this.seenArrivals = this.arrivals;
  }

  /**
   * With less than a full batch queued: null to start a batch now, or a number of ms after which
   * to look again (0: the next event-loop turn). `onTurn`: the look is the turn the last answer waited for.
   */
  decide(now: number, onTurn: boolean, queue: QueueTimes): number | null {
    // Waiting must leave a queued request time to run (at least 1 ms) before its deadline.
    const giveUpAt = Math.min(
      queue.oldestEnqueuedAt() + this.maxDelayMs,
      queue.earliestDeadline() - Math.max(this.runMsAverage, 1),
    );
    if (now >= giveUpAt) return null;
    if (!this.adaptive) return giveUpAt - now;
    // Wait another turn only while work keeps arriving: on the first look, more than the one request
    // that started the wait; then anything new during the turn waited. A lone request goes at once.
    if (this.waiting && !onTurn) return 0;
    const fresh = this.arrivals - this.seenArrivals;
    this.seenArrivals = this.arrivals;
    if (fresh <= (this.waiting ? 0 : 1)) return null;
    this.waiting = true;
    return 0;
  }

  /** A batch was taken from the queue: any wait is over. */
  taken(): void {
    this.waiting = false;
  }

  /** A model call of `requests` requests took `runMs`. */
  noteRun(runMs: number, requests: number): void {
    this.runMsAverage = this.runMsAverage === 0 ? runMs : 0.8 * this.runMsAverage + 0.2 * runMs;
    this.lastCallSingle = requests === 1;
  }
}
