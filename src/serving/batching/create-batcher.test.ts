import { describe, expect, it } from 'vitest';
import { AppError, CancelToken } from '../../core/index.ts';
import { LazyAbort } from './batch-slices.ts';
import { batcherKit, range, type SeenRun, track } from './batcher-test-kit.ts';

describe('createBatcher: packing', () => {
  it('fills batches up to maxBatchItems across many requests', async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 4 });
    const results = range(0, 10).map((i) => track(batcher.submit([i])));
    await timers.advance(0);
    expect(runs.map((r) => r.items)).toEqual([range(0, 4), range(4, 4), range(8, 2)]);
    expect(results.map((r) => r.value)).toEqual(range(0, 10).map((i) => [i * 10]));
  });

  it('counts items, not requests: multi-row requests share batches', async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 4 });
    const a = track(batcher.submit([1, 2, 3]));
    const b = track(batcher.submit([4, 5, 6]));
    const c = track(batcher.submit([7, 8]));
    await timers.advance(0);
    expect(runs.map((r) => r.items)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expect([a.value, b.value, c.value]).toEqual([
      [10, 20, 30],
      [40, 50, 60],
      [70, 80],
    ]);
  });

  it('splits a request larger than a batch and reassembles its results in order', async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 4 });
    const big = track(batcher.submit(range(100, 10)));
    await timers.advance(0);
    expect(runs.map((r) => r.items.length)).toEqual([4, 4, 2]);
    expect(big.value).toEqual(range(100, 10).map((x) => x * 10));
  });

  it('answers an empty request at once without running anything', async () => {
    const { batcher, runs } = batcherKit();
    await expect(batcher.submit([])).resolves.toEqual([]);
    expect(runs).toHaveLength(0);
  });

  it('runs up to maxConcurrentBatches batches at once', async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 2, maxConcurrentBatches: 2 }, true);
    for (const i of range(0, 6)) void batcher.submit([i]);
    await timers.advance(0);
    expect(runs).toHaveLength(2);
    expect(batcher.stats()).toMatchObject({ runningBatches: 2, runningItems: 4, queuedItems: 2, queuedRequests: 2 });
    runs[0]?.finish();
    await timers.advance(0);
    expect(runs).toHaveLength(3);
  });
});

describe('createBatcher: batch start times', () => {
  it("writes when each request's first batch starts into its timing, split requests included", async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 4 }, true);
    const first = { startedAt: 0 };
    const second = { startedAt: 0 };
    const before = performance.now();
    void batcher.submit([1, 2, 3], { timing: first });
    void batcher.submit([4, 5, 6], { timing: second });
    await timers.advance(0);
    // Both have items in the running batch: the second is split, and its first slice set the time.
    expect(runs).toHaveLength(1);
    expect(first.startedAt).toBeGreaterThanOrEqual(before);
    expect(second.startedAt).toBe(first.startedAt);
    const marked = second.startedAt;
    runs[0]?.finish();
    await timers.advance(0);
    expect(runs).toHaveLength(2);
    // The batch holding the rest of the second request does not move its start.
    expect(second.startedAt).toBe(marked);
  });

  it('leaves the timing of a request still queued untouched', async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 2 }, true);
    void batcher.submit([1, 2]);
    const queued = { startedAt: 0 };
    void batcher.submit([3], { timing: queued });
    await timers.advance(0);
    expect(runs).toHaveLength(1);
    expect(queued.startedAt).toBe(0);
  });
});

describe('createBatcher: waiting', () => {
  it('fixed policy: the first item waits maxDelayMs, a full batch goes at once', async () => {
    const { batcher, runs, timers } = batcherKit({ adaptive: false, maxDelayMs: 10, maxBatchItems: 4 });
    const lone = track(batcher.submit([1]));
    await timers.advance(9);
    expect(runs).toHaveLength(0);
    void batcher.submit([2]);
    await timers.advance(0.5);
    expect(runs).toHaveLength(0);
    await timers.advance(0.5);
    expect(runs.map((r) => r.items)).toEqual([[1, 2]]);
    expect(lone.value).toEqual([10]);

    const at = timers.clock.now();
    void batcher.submit([3, 4, 5, 6]);
    await timers.turn();
    expect(runs).toHaveLength(2);
    expect(timers.clock.now()).toBe(at);
  });

  it('adaptive policy: a lone request goes at once (after the current tick), with no timer and no time passing', async () => {
    const { batcher, runs, timers } = batcherKit({ maxDelayMs: 10 });
    const lone = track(batcher.submit([1]));
    expect(runs).toHaveLength(0);
    await timers.tick();
    expect(timers.size).toBe(0);
    expect(runs).toHaveLength(1);
    expect(lone.value).toEqual([10]);
    expect(timers.clock.now()).toBe(0);
  });

  it('adaptive policy: waits while work keeps arriving, but never beyond maxDelayMs', async () => {
    const { batcher, runs, timers, infos } = batcherKit({ maxDelayMs: 10, maxBatchItems: 100 });
    void batcher.submit([-1]);
    void batcher.submit([0]);
    await timers.tick();
    for (let t = 1; t < 10; t++) {
      timers.clock.advance(1);
      void batcher.submit([t]);
      await timers.turn();
      expect(runs).toHaveLength(0);
    }
    timers.clock.advance(1);
    void batcher.submit([10]);
    await timers.tick();
    expect(runs.map((r) => r.items)).toEqual([range(-1, 12)]);
    expect(infos[0]?.waitMs).toBe(10);

    // A burst, then one straggler during the turn waited for it, then silence.
    void batcher.submit([20]);
    void batcher.submit([21]);
    await timers.tick();
    expect(runs).toHaveLength(1);
    void batcher.submit([22]);
    await timers.turn();
    expect(runs).toHaveLength(1);
    await timers.turn();
    expect(runs.map((r) => r.items)).toEqual([range(-1, 12), [20, 21, 22]]);
    expect(timers.clock.now()).toBe(10);
  });

  it('goes early when waiting longer would leave a queued request no time before its deadline', async () => {
    const { batcher, runs, timers } = batcherKit({ adaptive: false, maxDelayMs: 10 });
    void batcher.submit([1]);
    void batcher.submit([2], { timeoutMs: 4 });
    await timers.advance(2);
    expect(runs).toHaveLength(0);
    await timers.advance(1);
    expect(runs.map((r) => r.items)).toEqual([[2, 1]]);
  });
});

describe('createBatcher: order', () => {
  it('prefers higher priority, then the earlier deadline, then arrival', async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 1 }, true);
    void batcher.submit([0]);
    await timers.advance(0);
    void batcher.submit([1]);
    void batcher.submit([2], { deadline: 1000 });
    void batcher.submit([3], { priority: 5 });
    void batcher.submit([4], { timeoutMs: 500 });
    void batcher.submit([5]);
    void batcher.submit([6], { priority: -1, timeoutMs: 1 });
    for (let i = 0; i < 6; i++) {
      runs[i]?.finish();
      await timers.advance(0);
    }
    expect(runs.map((r) => r.items[0])).toEqual([0, 3, 4, 2, 1, 5, 6]);
  });
});

describe('createBatcher: deadlines', () => {
  it('drops a request whose deadline passes while it waits, even while a batch runs; it never runs', async () => {
    const { batcher, runs, timers } = batcherKit({}, true);
    void batcher.submit([1]);
    await timers.advance(0);
    const late = track(batcher.submit([2], { timeoutMs: 5 }));
    await timers.advance(5);
    expect(late.status).toBe('rejected');
    expect(late.error).toBeInstanceOf(AppError);
    expect((late.error as AppError).code).toBe('REQUEST_TIMEOUT');
    expect((late.error as AppError).details).toEqual({ stage: 'queued' });
    expect(runs).toHaveLength(1);
    runs[0]?.finish();
    await timers.advance(100);
    expect(runs.flatMap((r) => r.items)).toEqual([1]);
    expect(batcher.stats()).toMatchObject({ expired: 1, queuedItems: 0 });
  });

  it('rejects at once a request whose deadline has already passed', async () => {
    const { batcher, runs, timers } = batcherKit();
    timers.clock.set(1000);
    await expect(batcher.submit([1], { deadline: 1000 })).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT' });
    await timers.advance(20);
    expect(runs).toHaveLength(0);
  });

  it('answers a running request with a timeout at its deadline, discarding its late result only', async () => {
    const { batcher, runs, timers } = batcherKit({}, true);
    const slow = track(batcher.submit([1], { timeoutMs: 5 }));
    const patient = track(batcher.submit([2]));
    await timers.advance(5);
    expect(slow.error).toMatchObject({ code: 'REQUEST_TIMEOUT', details: { stage: 'running' } });
    runs[0]?.finish();
    await timers.advance(0);
    expect(patient.value).toEqual([20]);
  });
});

describe('createBatcher: cancellation', () => {
  it('removes queued work of an aborted request; it never runs', async () => {
    const { batcher, runs, timers } = batcherKit({}, true);
    void batcher.submit([1]);
    await timers.advance(0);
    const controller = new AbortController();
    const gone = track(batcher.submit([2, 3], { signal: controller.signal }));
    const kept = track(batcher.submit([4]));
    controller.abort();
    await timers.advance(0);
    expect(gone.status).toBe('rejected');
    expect((gone.error as Error).name).toBe('AbortError');
    runs[0]?.finish();
    await timers.advance(0);
    runs[1]?.finish();
    await timers.advance(0);
    expect(runs.map((r) => r.items)).toEqual([[1], [4]]);
    expect(kept.value).toEqual([40]);
    expect(batcher.stats()).toMatchObject({ cancelled: 1, queuedItems: 0, queuedRequests: 0 });
  });

  it('takes a CancelToken as its signal: queued work of a cancelled request is dropped with its reason', async () => {
    const { batcher, runs, timers } = batcherKit({}, true);
    void batcher.submit([1]);
    await timers.advance(0);
    const token = new CancelToken();
    const gone = track(batcher.submit([2], { signal: token }));
    const kept = track(batcher.submit([3]));
    token.cancel(new AppError('CLIENT_CLOSED', 'the client closed the connection'));
    await timers.advance(0);
    expect(gone.status).toBe('rejected');
    expect((gone.error as AppError).code).toBe('CLIENT_CLOSED');
    runs[0]?.finish();
    await timers.advance(0);
    runs[1]?.finish();
    await timers.advance(0);
    expect(runs.map((r) => r.items)).toEqual([[1], [3]]);
    expect(kept.value).toEqual([30]);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const { batcher, runs, timers } = batcherKit();
    await expect(batcher.submit([1], { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await timers.advance(20);
    expect(runs).toHaveLength(0);
  });

  it('discards the result of a running request, and aborts the batch signal once nobody is left', async () => {
    const { batcher, runs, timers } = batcherKit({}, true);
    const a = new AbortController();
    const b = new AbortController();
    const first = track(batcher.submit([1], { signal: a.signal }));
    const second = track(batcher.submit([2], { signal: b.signal }));
    await timers.advance(0);
    a.abort();
    await timers.advance(0);
    expect(first.status).toBe('rejected');
    expect(runs[0]?.signal.aborted).toBe(false);
    b.abort();
    expect(runs[0]?.signal.aborted).toBe(true);
    runs[0]?.finish();
    await timers.advance(0);
    expect(second.status).toBe('rejected');
    expect(batcher.stats()).toMatchObject({ cancelled: 2, succeeded: 0 });
  });
});

describe('createBatcher: load shedding', () => {
  it('rejects with OVERLOADED and a retryAfterMs hint when the queue is full, and accepts again after draining', async () => {
    const { batcher, runs, timers } = batcherKit({ maxQueueItems: 6, maxBatchItems: 4 }, true);
    void batcher.submit([0]);
    await timers.advance(0);
    for (const i of range(1, 6)) void batcher.submit([i]);
    const shed = track(batcher.submit([7]));
    await timers.advance(0);
    expect(shed.error).toBeInstanceOf(AppError);
    const error = shed.error as AppError;
    expect(error.code).toBe('OVERLOADED');
    expect(error.status).toBe(503);
    expect((error.details as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(1);
    expect(batcher.stats()).toMatchObject({ shed: 1, queuedItems: 6 });

    runs[0]?.finish();
    await timers.advance(0);
    expect(batcher.stats().queuedItems).toBe(2);
    const again = track(batcher.submit([8, 9]));
    runs[1]?.finish();
    await timers.advance(0);
    runs[2]?.finish();
    await timers.advance(0);
    expect(again.value).toEqual([80, 90]);
  });

  it('rejects a request larger than the whole queue as too large', async () => {
    const { batcher } = batcherKit({ maxQueueItems: 6 });
    await expect(batcher.submit(range(0, 7))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('createBatcher: failures', () => {
  it('rejects exactly the requests in the failed batch', async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 4 }, true);
    const a = track(batcher.submit([1, 2]));
    const b = track(batcher.submit([3, 4]));
    const c = track(batcher.submit([5, 6]));
    await timers.advance(0);
    const boom = new Error('model crashed');
    runs[0]?.fail(boom);
    await timers.advance(0);
    runs[1]?.finish();
    await timers.advance(0);
    expect([a.error, b.error]).toEqual([boom, boom]);
    expect(c.value).toEqual([50, 60]);
    expect(batcher.stats()).toMatchObject({ failed: 2, succeeded: 1 });
  });

  it('drops the queued rest of a split request whose first part failed', async () => {
    const { batcher, runs, timers } = batcherKit({ maxBatchItems: 4 }, true);
    const big = track(batcher.submit(range(0, 10)));
    await timers.advance(0);
    runs[0]?.fail(new Error('no'));
    await timers.advance(20);
    expect(big.status).toBe('rejected');
    expect(runs).toHaveLength(1);
    expect(batcher.stats().queuedItems).toBe(0);
  });

  it('rejects every caller when runBatch returns the wrong number of outputs', async () => {
    const { batcher, timers } = batcherKit({ runBatch: async (items) => items.slice(1) });
    const a = track(batcher.submit([1, 2]));
    await timers.advance(0);
    expect(a.error).toMatchObject({ code: 'INTERNAL' });
  });

  it('with isolateFailures, runs a failed batch again in halves so only the poison item fails', async () => {
    const poison = 13;
    const { batcher, timers, runs } = batcherKit({
      maxBatchItems: 8,
      isolateFailures: true,
      runBatch: async (items) => {
        if (items.includes(poison)) throw new Error(`cannot score ${poison}`);
        return items.map((x) => x * 10);
      },
    });
    const a = track(batcher.submit([1, 2]));
    const b = track(batcher.submit([poison, 3]));
    const c = track(batcher.submit([4, 5, 6]));
    await timers.advance(0);
    expect(a.value).toEqual([10, 20]);
    expect((b.error as Error).message).toBe('cannot score 13');
    expect(c.value).toEqual([40, 50, 60]);
    expect(runs).toHaveLength(0);
    expect(batcher.stats()).toMatchObject({ failed: 1, succeeded: 2 });
  });
});

describe('createBatcher: stats and shutdown', () => {
  it('reports every batch with its size, requests, queue wait and run time', async () => {
    const { batcher, timers, infos } = batcherKit({
      adaptive: false,
      maxDelayMs: 3,
      runBatch: (items) => new Promise((resolve) => timers.schedule(() => resolve(items), 7)),
    });
    void batcher.submit([1, 2]);
    void batcher.submit([3]);
    await timers.advance(20);
    expect(infos).toEqual([{ items: 3, requests: 2, waitMs: 3, runMs: 7 }]);
    expect(batcher.stats()).toMatchObject({ batches: 1, accepted: 2, succeeded: 2 });
  });

  it('runExclusive: at low load a request runs on its own, counted and reported as a batch', async () => {
    const { batcher, runs, timers, infos } = batcherKit({ maxDelayMs: 10 });
    // Not before a batch has shown the load is low.
    expect(batcher.runExclusive(1, {}, async () => 'mine')).toBeUndefined();
    await batcher.submit([1]);
    await timers.tick();
    const alone = batcher.runExclusive(2, {}, async () => {
      timers.clock.advance(3);
      return 'mine';
    });
    expect(alone).toBeDefined();
    await expect(alone).resolves.toBe('mine');
    expect(runs).toHaveLength(1);
    expect(infos.at(-1)).toEqual({ items: 2, requests: 1, waitMs: 0, runMs: 3 });
    expect(batcher.stats()).toMatchObject({ batches: 2, accepted: 2, succeeded: 2, runningBatches: 0, runningItems: 0 });
    const failure = new Error('model failed');
    await expect(batcher.runExclusive(1, {}, () => Promise.reject(failure))).rejects.toBe(failure);
    await expect(
      batcher.runExclusive(1, {}, () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(batcher.stats()).toMatchObject({ failed: 2, runningBatches: 0 });
    expect(infos.at(-1)).toMatchObject({ items: 1, requests: 1, error: failure });
  });

  it('runExclusive: requests that arrive meanwhile queue behind it, and it never jumps a queue or a running batch', async () => {
    const { batcher, runs, timers } = batcherKit({ maxDelayMs: 10, maxBatchItems: 4 }, true);
    const first = track(batcher.submit([1]));
    await timers.tick();
    (runs[0] as SeenRun).finish();
    await timers.tick();
    expect(first.value).toEqual([10]);
    let release: (v: string) => void = () => undefined;
    const alone = track(batcher.runExclusive(1, {}, () => new Promise<string>((r) => (release = r))) as Promise<string>);
    // Busy: another exclusive run is refused, submitted work waits for it.
    expect(batcher.runExclusive(1, {}, async () => 'other')).toBeUndefined();
    const a = track(batcher.submit([2]));
    const b = track(batcher.submit([3]));
    await timers.turn();
    expect(runs).toHaveLength(1);
    release('done');
    await timers.turn();
    expect(alone.value).toBe('done');
    expect(runs.map((r) => r.items)).toEqual([[1], [2, 3]]);
    // A queue or a running batch refuses it, and so does a last batch of several requests.
    expect(batcher.runExclusive(1, {}, async () => 'x')).toBeUndefined();
    (runs[1] as SeenRun).finish();
    await timers.tick();
    expect([a.value, b.value]).toEqual([[20], [30]]);
    expect(batcher.runExclusive(1, {}, async () => 'x')).toBeUndefined();
  });

  it('runExclusive: leaves requests with a deadline or priority to the queue, and answers one whose client left with the reason', async () => {
    const { batcher, timers } = batcherKit({ maxDelayMs: 10 });
    await batcher.submit([1]);
    await timers.tick();
    for (const options of [{ timeoutMs: 100 }, { deadline: 1_000 }, { priority: 1 }]) {
      expect(
        batcher.runExclusive(1, options, async () => 'x'),
        JSON.stringify(options),
      ).toBeUndefined();
    }
    const signal = new CancelToken();
    const gone = new AppError('CLIENT_CLOSED', 'the client closed the connection');
    const alone = batcher.runExclusive(1, { signal }, async () => {
      signal.cancel(gone);
      return 'late';
    });
    await expect(alone).rejects.toBe(gone);
    expect(batcher.stats()).toMatchObject({ cancelled: 1, succeeded: 1, runningBatches: 0 });
    expect(batcher.runExclusive(1, { signal }, async () => 'x')).toBeUndefined();
  });

  it('runExclusive: refuses more rows than a batch holds, and close() waits for it', async () => {
    const { batcher, timers } = batcherKit({ maxDelayMs: 10, maxBatchItems: 4 });
    await batcher.submit([1]);
    await timers.tick();
    expect(batcher.runExclusive(5, {}, async () => 'big')).toBeUndefined();
    let release: (v: string) => void = () => undefined;
    const alone = track(batcher.runExclusive(4, {}, () => new Promise<string>((r) => (release = r))) as Promise<string>);
    const closed = track(batcher.close());
    await timers.tick();
    expect(closed.status).toBe('pending');
    release('done');
    await timers.tick();
    expect([alone.value, closed.status]).toEqual(['done', 'resolved']);
  });

  it('close() runs queued work without waiting, then refuses new work', async () => {
    const { batcher, runs, timers } = batcherKit({ adaptive: false, maxDelayMs: 1000 });
    const queued = track(batcher.submit([1]));
    await batcher.close();
    await timers.turn();
    expect(runs).toHaveLength(1);
    expect(queued.value).toEqual([10]);
    await expect(batcher.submit([2])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});

describe('LazyAbort', () => {
  it('makes its signal when first read, aborted if the batch was abandoned before', () => {
    const early = new LazyAbort();
    early.abort();
    expect(early.signal.aborted).toBe(true);
    const late = new LazyAbort();
    const signal = late.signal;
    expect(signal.aborted).toBe(false);
    late.abort();
    late.abort();
    expect([signal.aborted, late.signal]).toEqual([true, signal]);
  });
});
