import { describe, expect, it } from 'vitest';
import { createBatcher } from './create-batcher.ts';
import { FakeBatchTimers } from './fake-batch-timers.ts';

/** xorshift32: a seeded generator so a failing case reproduces from its seed. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

interface Outcome {
  id: number;
  items: number[];
  status: 'pending' | 'ok' | 'error';
  value?: number[];
}

/**
 * Random request sizes, priorities, deadlines, aborts, batch limits and run times: every caller gets
 * exactly the outputs of its own items, in order; no batch exceeds the limit; no item runs twice;
 * nothing settled early (expired or aborted) is run after it was dropped from the queue.
 */
async function scenario(seed: number) {
  const rand = prng(seed);
  const timers = new FakeBatchTimers();
  const maxBatchItems = 1 + rand(8);
  const ranCount = new Map<number, number>();
  const batchSizes: number[] = [];
  const owner = new Map<number, Outcome>();
  let ranAfterSettled = 0;
  const batcher = createBatcher<number, string>({
    maxBatchItems,
    maxDelayMs: rand(5),
    maxQueueItems: 200,
    maxConcurrentBatches: 1 + rand(3),
    adaptive: rand(2) === 0,
    clock: timers.clock,
    timers,
    runBatch: (items) =>
      new Promise((resolve, reject) => {
        batchSizes.push(items.length);
        for (const x of items) ranCount.set(x, (ranCount.get(x) ?? 0) + 1);
        for (const x of items) if (owner.get(x)?.status !== 'pending') ranAfterSettled++;
        const fail = rand(20) === 0;
        timers.schedule(() => (fail ? reject(new Error('batch failed')) : resolve(items.map((x) => `out:${x}`))), rand(4));
      }),
  });
  const outcomes: Outcome[] = [];
  let nextItem = 0;
  for (let step = 0; step < 60; step++) {
    const size = rand(12);
    const items = Array.from({ length: size }, () => nextItem++);
    const outcome: Outcome = { id: step, items, status: 'pending' };
    outcomes.push(outcome);
    for (const x of items) owner.set(x, outcome);
    const controller = new AbortController();
    const timeoutMs = rand(3) === 0 ? 1 + rand(10) : undefined;
    batcher.submit(items, { priority: rand(3), timeoutMs, signal: controller.signal }).then(
      (value) => Object.assign(outcome, { status: 'ok', value }),
      () => Object.assign(outcome, { status: 'error' }),
    );
    if (rand(10) === 0) controller.abort();
    await timers.advance(rand(3));
  }
  await timers.advance(1000);
  return { outcomes, ranCount, ranAfterSettled, batchSizes, maxBatchItems, stats: batcher.stats() };
}

describe('createBatcher: routing (property)', () => {
  it('routes every output to its own caller in order, under random sizes, priorities, deadlines and aborts', async () => {
    const totals = { ok: 0, settledEarly: 0, batches: 0 };
    for (let seed = 1; seed <= 150; seed++) {
      const { outcomes, ranCount, ranAfterSettled, batchSizes, maxBatchItems, stats } = await scenario(seed);
      expect(ranAfterSettled, `seed ${seed}: items run after their request was answered`).toBe(0);
      for (const o of outcomes) {
        expect(o.status, `seed ${seed}, request ${o.id}`).not.toBe('pending');
        if (o.status === 'ok') expect(o.value, `seed ${seed}, request ${o.id}`).toEqual(o.items.map((x) => `out:${x}`));
      }
      for (const size of batchSizes) expect(size).toBeLessThanOrEqual(maxBatchItems);
      for (const [item, times] of ranCount) expect(times, `seed ${seed}, item ${item}`).toBe(1);
      expect(stats).toMatchObject({ queuedItems: 0, queuedRequests: 0, runningBatches: 0, runningItems: 0 });
      const nonEmpty = outcomes.filter((o) => o.items.length > 0).length;
      totals.ok += stats.succeeded;
      totals.settledEarly += stats.expired + stats.cancelled + stats.failed;
      totals.batches += stats.batches;
      expect(stats.succeeded + stats.failed + stats.expired + stats.cancelled + stats.shed, `seed ${seed}`).toBe(nonEmpty);
    }
    // The scenarios exercise both paths, not only one.
    expect(totals.ok).toBeGreaterThan(1000);
    expect(totals.settledEarly).toBeGreaterThan(500);
  });
});
