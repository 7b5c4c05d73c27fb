import type { BatcherOptions, BatchInfo } from './batcher-types.ts';
import { createBatcher } from './create-batcher.ts';
import { FakeBatchTimers } from './fake-batch-timers.ts';

/** One runBatch call seen by a test; `finish` answers every item with item × 10. */
export interface SeenRun {
  items: number[];
  signal: AbortSignal;
  finish(): void;
  fail(error: unknown): void;
}

/**
 * A batcher over numbers on fake timers. With `hold`, runBatch calls stay running until the test
 * finishes or fails them, so tests can act while a batch runs.
 */
export function batcherKit(options: Partial<BatcherOptions<number, number>> = {}, hold = false) {
  const timers = new FakeBatchTimers();
  const runs: SeenRun[] = [];
  const infos: BatchInfo[] = [];
  const batcher = createBatcher<number, number>({
    maxBatchItems: 4,
    maxDelayMs: 10,
    maxQueueItems: 100,
    clock: timers.clock,
    timers,
    onBatch: (info) => infos.push(info),
    runBatch: (items, { signal }) =>
      new Promise((resolve, reject) => {
        const run: SeenRun = { items, signal, finish: () => resolve(items.map((x) => x * 10)), fail: reject };
        runs.push(run);
        if (!hold) run.finish();
      }),
    ...options,
  });
  return { timers, runs, infos, batcher, ran: () => runs.flatMap((r) => r.items) };
}

export interface Tracked<T> {
  status: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: unknown;
}

/** Records how a promise settles so a test can look without awaiting it. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { status: 'pending' };
  promise.then(
    (value) => Object.assign(t, { status: 'resolved', value }),
    (error: unknown) => Object.assign(t, { status: 'rejected', error }),
  );
  return t;
}

export const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
