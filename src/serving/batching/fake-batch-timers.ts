import { ManualClock } from '../../core/index.ts';
import type { BatchTimers } from './batch-timers.ts';

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets promise callbacks that are already resolved run (one real event-loop turn; no time passes). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Manual timers on a ManualClock. `turn()` finishes the current tick, then is one event-loop turn: it
 * runs what is due now (not what that schedules); `advance(ms)` moves the clock, running every
 * callback in time order.
 */
export class FakeBatchTimers implements BatchTimers {
  readonly clock: ManualClock;
  private pending: Scheduled[] = [];
  private seq = 0;

  constructor(clock = new ManualClock(0)) {
    this.clock = clock;
  }

  schedule(fn: () => void, delayMs: number): () => void {
    const entry: Scheduled = { at: this.clock.now() + Math.max(0, delayMs), seq: this.seq++, fn };
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((p) => p !== entry);
    };
  }

  /** Callbacks waiting to run. */
  get size(): number {
    return this.pending.length;
  }

  /** Finishes the current tick: queued promise callbacks and microtasks run, no timer does. */
  async tick(): Promise<void> {
    await settle();
  }

  async turn(): Promise<void> {
    await settle();
    const now = this.clock.now();
    const due = this.pending.filter((p) => p.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.pending = this.pending.filter((p) => p.at > now);
    for (const p of due) p.fn();
    await settle();
  }

  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (let turns = 0; ; turns++) {
      if (turns > 100_000) throw new Error('FakeBatchTimers: callbacks keep rescheduling themselves');
      await settle();
      const next = this.pending.reduce<number>((min, p) => Math.min(min, p.at), Number.POSITIVE_INFINITY);
      if (next > end) break;
      this.clock.set(Math.max(this.clock.now(), next));
      await this.turn();
    }
    this.clock.set(end);
    await settle();
  }
}
