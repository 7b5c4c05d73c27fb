import { AppError, systemClock } from '../../core/index.ts';
import {
  gatherItems,
  LazyAbort,
  type PendingRequest,
  type RunningBatch,
  type Slice,
  sliceItems,
  splitSlices,
} from './batch-slices.ts';
import { systemBatchTimers } from './batch-timers.ts';
import type { Batcher, BatcherOptions, BatcherStats, BatchInfo, SubmitOptions } from './batcher-types.ts';
import { RequestQueue } from './request-queue.ts';
import { WaitPolicy } from './wait-policy.ts';

const noop = () => {};

/**
 * A per-model batcher: requests of any number of items queue by priority, deadline and arrival,
 * and are packed into batches of at most `maxBatchItems` items run by `runBatch` (see
 * docs/serving.md, Batching, for the waiting policy).
 */
export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  checkOptions(options);
  const { maxBatchItems, maxDelayMs, maxQueueItems, runBatch } = options;
  const maxConcurrent = options.maxConcurrentBatches ?? 1;
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemBatchTimers;
  const label = options.name ? `model '${options.name}'` : 'the batcher';

  const queue = new RequestQueue<PendingRequest<I, O>>();
  const counts = { accepted: 0, succeeded: 0, failed: 0, shed: 0, expired: 0, cancelled: 0, batches: 0 };
  let queuedItems = 0;
  let running = 0;
  let runningItems = 0;
  let seq = 0;
  const policy = new WaitPolicy(maxDelayMs, options.adaptive ?? true);
  let wake: { at: number; cancel: () => void } | undefined;
  let pumpQueued = false;
  let closing = false;
  const idleWaiters: (() => void)[] = [];

  /** `from`: the batch whose result settles it, which needs no abort (aborting allocates a DOMException). */
  function settle(
    req: PendingRequest<I, O>,
    outcome: { ok: true; value: O[] } | { ok: false; error: unknown },
    from?: RunningBatch<I, O>,
  ): void {
    if (req.settled) return;
    req.settled = true;
    req.cleanup();
    if (from) req.batches.delete(from);
    if (req.next < req.items.length) {
      queue.remove(req);
      queuedItems -= req.items.length - req.next;
      req.next = req.items.length;
    }
    for (const batch of req.batches) if (--batch.live === 0) batch.abort.abort();
    req.batches.clear();
    if (outcome.ok) req.resolve(outcome.value);
    else req.reject(outcome.error);
    checkIdle();
  }

  function expire(req: PendingRequest<I, O>): void {
    if (req.settled) return;
    counts.expired++;
    const stage = req.next > 0 ? 'running' : 'queued';
    const waited = clock.now() - req.enqueuedAt;
    const error = new AppError('REQUEST_TIMEOUT', `deadline passed after ${waited} ms (${stage}) at ${label}`, { stage });
    settle(req, { ok: false, error });
  }

  function checkIdle(): void {
    if (closing && queuedItems === 0 && running === 0) for (const resolve of idleWaiters.splice(0)) resolve();
  }

  function arm(delayMs: number): void {
    const at = clock.now() + delayMs;
    if (wake && wake.at <= at) return;
    wake?.cancel();
    const next = { at, cancel: noop };
    wake = next;
    next.cancel = timers.schedule(() => {
      if (wake === next) wake = undefined;
      pump(true);
    }, delayMs);
  }

  /**
   * Never dispatch inside submit(): a microtask runs after the caller's synchronous code and the
   * promise callbacks already queued, so requests submitted in the same tick share the batch.
   */
  function pumpSoon(): void {
    if (pumpQueued) return;
    pumpQueued = true;
    queueMicrotask(() => {
      pumpQueued = false;
      pump();
    });
  }

  /** `onTurn`: called by the event-loop turn it waited for (the others are looks in between). */
  function pump(onTurn = false): void {
    while (running < maxConcurrent && queuedItems > 0) {
      const now = clock.now();
      // A full batch, or a closing batcher, goes at once; otherwise the policy says when.
      const wait = closing || queuedItems >= maxBatchItems ? null : policy.decide(now, onTurn, queue);
      if (wait !== null) {
        arm(wait);
        return;
      }
      const batch = take(now);
      if (batch.slices.length > 0) void execute(batch);
    }
  }

  function take(now: number): RunningBatch<I, O> {
    policy.taken();
    const batch: RunningBatch<I, O> = { slices: [], abort: new LazyAbort(), live: 0 };
    let room = maxBatchItems;
    // High resolution, unlike `now` (the injectable clock, in ms): the queue wait it marks is often under 1 ms.
    let startedAt = 0;
    for (let req = queue.peek(); req && room > 0; req = queue.peek()) {
      if (req.deadline <= now) {
        expire(req);
        continue;
      }
      if (req.timing !== undefined && req.next === 0) {
        if (startedAt === 0) startedAt = performance.now();
        req.timing.startedAt = startedAt;
      }
      const count = Math.min(room, req.items.length - req.next);
      batch.slices.push({ req, from: req.next, count });
      req.next += count;
      queuedItems -= count;
      room -= count;
      req.batches.add(batch);
      batch.live++;
      if (req.next === req.items.length) queue.pop();
    }
    return batch;
  }

  async function execute(batch: RunningBatch<I, O>): Promise<void> {
    const size = sliceItems(batch.slices);
    beginRun(size);
    try {
      await runSlices(batch, batch.slices);
    } finally {
      for (const s of batch.slices) s.req.batches.delete(batch);
      endRun(size);
    }
  }

  async function runSlices(batch: RunningBatch<I, O>, slices: Slice<I, O>[]): Promise<void> {
    const live = slices.filter((s) => !s.req.settled);
    if (live.length === 0) return;
    const items = gatherItems(live);
    const started = clock.now();
    counts.batches++;
    let outputs: O[] = [];
    let failure: { error: unknown } | undefined;
    try {
      outputs = await runBatch(items, batch.abort);
      if (!Array.isArray(outputs) || outputs.length !== items.length) {
        throw new AppError('INTERNAL', `runBatch returned ${outputs?.length} outputs for ${items.length} items at ${label}`);
      }
    } catch (error) {
      failure = { error };
    }
    const runMs = clock.now() - started;
    policy.noteRun(runMs, live.length);
    if (options.onBatch) {
      // A request has at most one slice per batch: it is taken whole, or split once at the batch's end.
      const oldest = live.reduce((min, s) => Math.min(min, s.req.enqueuedAt), Number.POSITIVE_INFINITY);
      report({ items: items.length, requests: live.length, waitMs: started - oldest, runMs }, failure);
    }
    if (failure) {
      if (options.isolateFailures && items.length > 1) {
        const [left, right] = splitSlices(live, Math.ceil(items.length / 2));
        await runSlices(batch, left);
        await runSlices(batch, right);
        return;
      }
      for (const s of live) {
        if (s.req.settled) continue;
        counts.failed++;
        settle(s.req, { ok: false, error: failure.error }, batch);
      }
      return;
    }
    let k = 0;
    for (const { req, from, count } of live) {
      if (!req.settled) {
        for (let i = 0; i < count; i++) req.results[from + i] = outputs[k + i] as O;
        req.done += count;
        if (req.done === req.items.length) {
          counts.succeeded++;
          settle(req, { ok: true, value: req.results }, batch);
        }
      }
      k += count;
    }
  }

  function beginRun(items: number): void {
    running++;
    runningItems += items;
  }

  function endRun(items: number): void {
    running--;
    runningItems -= items;
    pump();
    checkIdle();
  }

  function report(info: BatchInfo, failure: { error: unknown } | undefined): void {
    try {
      options.onBatch?.(failure ? { ...info, error: failure.error } : info);
    } catch {
      // A metrics hook must not break serving.
    }
  }

  function retryAfterMs(rows: number): number {
    const toFree = queuedItems + rows - maxQueueItems;
    const batches = Math.ceil(toFree / maxBatchItems / maxConcurrent) + (running > 0 ? 1 : 0);
    return Math.max(1, Math.ceil(batches * Math.max(policy.runMsAverage, 1)));
  }

  /** Returned, not declared: tsx wraps a named closure in a `__name()` call, on every request here. */
  function abortListener(req: PendingRequest<I, O>, signal: NonNullable<SubmitOptions['signal']>): () => void {
    return () => {
      if (req.settled) return;
      counts.cancelled++;
      settle(req, { ok: false, error: signal.reason });
    };
  }

  function submit(items: I[], submitOptions: SubmitOptions = {}): Promise<O[]> {
    if (closing) return Promise.reject(new AppError('UNAVAILABLE', `${label} is shutting down`));
    const { signal, priority = 0 } = submitOptions;
    if (!Array.isArray(items)) return Promise.reject(new AppError('BAD_REQUEST', 'submit takes an array of items'));
    if (!Number.isFinite(priority))
      return Promise.reject(new AppError('BAD_REQUEST', `priority must be a number, got ${priority}`));
    if (signal?.aborted) {
      counts.cancelled++;
      return Promise.reject(signal.reason);
    }
    const now = clock.now();
    const { timeoutMs } = submitOptions;
    const deadline = Math.min(submitOptions.deadline ?? Number.POSITIVE_INFINITY, now + (timeoutMs ?? Number.POSITIVE_INFINITY));
    if (Number.isNaN(deadline)) return Promise.reject(new AppError('BAD_REQUEST', 'deadline and timeoutMs must be numbers'));
    if (deadline <= now) {
      counts.expired++;
      return Promise.reject(new AppError('REQUEST_TIMEOUT', `deadline had passed before the request reached ${label}`));
    }
    const rows = items.length;
    if (rows === 0) return Promise.resolve([]);
    if (rows > maxQueueItems) {
      const message = `a request of ${rows} rows is larger than the queue of ${label} (${maxQueueItems} rows); send it in parts`;
      return Promise.reject(new AppError('PAYLOAD_TOO_LARGE', message, { rows, maxQueueItems }));
    }
    if (queuedItems + rows > maxQueueItems) {
      counts.shed++;
      const retry = retryAfterMs(rows);
      const message = `${label} is overloaded (${queuedItems} of ${maxQueueItems} rows queued); retry after ${retry} ms`;
      return Promise.reject(new AppError('OVERLOADED', message, { retryAfterMs: retry, queuedItems, maxQueueItems }));
    }
    return new Promise<O[]>((resolve, reject) => {
      const req: PendingRequest<I, O> = {
        priority,
        deadline,
        seq: seq++,
        enqueuedAt: now,
        items,
        results: new Array<O>(rows),
        next: 0,
        done: 0,
        settled: false,
        timing: submitOptions.timing,
        batches: new Set(),
        resolve,
        reject,
        cleanup: noop,
      };
      const cancelTimer = Number.isFinite(deadline) ? timers.schedule(() => expire(req), deadline - now) : noop;
      if (signal) {
        const onAbort = abortListener(req, signal);
        signal.addEventListener('abort', onAbort, { once: true });
        req.cleanup = () => {
          cancelTimer();
          signal.removeEventListener('abort', onAbort);
        };
      } else {
        req.cleanup = cancelTimer;
      }
      queue.push(req);
      queuedItems += rows;
      counts.accepted++;
      policy.arrived();
      if (running < maxConcurrent) pumpSoon();
    });
  }

  function runExclusive<T>(rows: number, submitOptions: SubmitOptions, work: () => Promise<T>): Promise<T> | undefined {
    const { signal, timing } = submitOptions;
    const ordered = submitOptions.deadline !== undefined || submitOptions.timeoutMs !== undefined || !!submitOptions.priority;
    if (!policy.lastCallSingle || closing || running > 0 || queuedItems > 0 || ordered || signal?.aborted) return undefined;
    if (rows < 1 || rows > maxBatchItems) return undefined;
    if (timing) timing.startedAt = performance.now();
    beginRun(rows);
    counts.accepted++;
    counts.batches++;
    policy.ranAlone();
    const started = clock.now();
    let result: Promise<T>;
    try {
      result = work();
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then(
      (value) => {
        const rejected = settleExclusive(started, rows, signal);
        if (rejected) throw rejected.error;
        return value;
      },
      (error: unknown) => {
        throw (settleExclusive(started, rows, signal, { error }) ?? { error }).error;
      },
    );
  }

  /**
   * Books a `runExclusive` run as a batch; returns what its caller is to be rejected with, if
   * anything. Declared once here: a named closure per call would cost a tsx `__name()` call each.
   */
  function settleExclusive(
    started: number,
    rows: number,
    signal: SubmitOptions['signal'],
    failure?: { error: unknown },
  ): { error: unknown } | undefined {
    const runMs = clock.now() - started;
    policy.noteRun(runMs, 1);
    if (signal?.aborted) counts.cancelled++;
    else if (failure) counts.failed++;
    else counts.succeeded++;
    if (options.onBatch) report({ items: rows, requests: 1, waitMs: 0, runMs }, failure);
    endRun(rows);
    // As for a queued request: a client that left is answered with its signal's reason, whatever the run did.
    return signal?.aborted ? { error: signal.reason } : failure;
  }

  return {
    submit,
    runExclusive,
    stats: (): BatcherStats => ({
      ...counts,
      queuedItems,
      queuedRequests: queue.length,
      runningBatches: running,
      runningItems,
    }),
    close(): Promise<void> {
      closing = true;
      wake?.cancel();
      wake = undefined;
      pump();
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
  };
}

function checkOptions<I, O>(o: BatcherOptions<I, O>): void {
  const int = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) {
      throw new AppError('CONFIG_INVALID', `batcher ${name} must be an integer ≥ ${min}, got ${v}`);
    }
  };
  int('maxBatchItems', o.maxBatchItems, 1);
  int('maxQueueItems', o.maxQueueItems, 1);
  int('maxConcurrentBatches', o.maxConcurrentBatches, 1);
  if (!(Number.isFinite(o.maxDelayMs) && o.maxDelayMs >= 0)) {
    throw new AppError('CONFIG_INVALID', `batcher maxDelayMs must be a number ≥ 0, got ${o.maxDelayMs}`);
  }
  if (typeof o.runBatch !== 'function') throw new AppError('CONFIG_INVALID', 'batcher runBatch must be a function');
}
