import type { CancelSignal, Clock } from '../../core/index.ts';
import type { BatchTimers } from './batch-timers.ts';

export interface BatcherOptions<I, O> {
  /**
   * Runs one batch (the model call) and returns one output per item, in order. `batch.signal`
   * aborts when every request in the batch has gone (cancelled or timed out), so a runner that can
   * stop early may; it is created when first read.
   */
  runBatch: (items: I[], batch: { readonly signal: AbortSignal }) => Promise<O[]>;
  /** Most items (rows) in one batch; a request with more rows is split across batches. */
  maxBatchItems: number;
  /** Longest the oldest queued item waits for others to join before its batch goes. */
  maxDelayMs: number;
  /** Most items waiting (not running); beyond it submit rejects with OVERLOADED at once. */
  maxQueueItems: number;
  /** Batches running at the same time (default 1). */
  maxConcurrentBatches?: number;
  /**
   * true (default): wait only while work keeps arriving (see docs/serving.md, Batching); false: wait
   * until the batch is full or the oldest item has waited maxDelayMs (Triton's dynamic batcher).
   */
  adaptive?: boolean;
  /** On a failed batch, run it again in halves until the failing items are alone (default false). */
  isolateFailures?: boolean;
  /** Named in error messages (the model). */
  name?: string;
  clock?: Clock;
  timers?: BatchTimers;
  /** Called after every runBatch call, for metrics. Must not throw. */
  onBatch?: (info: BatchInfo) => void;
}

export interface SubmitOptions {
  /** Epoch ms after which nobody will read the answer. */
  deadline?: number;
  /** Relative form of `deadline`; the earlier of the two counts. */
  timeoutMs?: number;
  /** Higher runs first (default 0). */
  priority?: number;
  /** Aborted when the client has gone: queued work is removed, running work's result is discarded. */
  signal?: CancelSignal;
  /**
   * Filled in by the batcher when the request's first batch starts, so the caller can split its
   * wait in the queue from the model run. An object the caller already holds rather than a
   * callback: the predict path makes no closures per request (docs/adr/0004).
   */
  timing?: BatchTiming;
}

export interface BatchTiming {
  /** performance.now() when the first batch holding some of the request's items was taken; 0 until then. */
  startedAt: number;
}

export interface BatchInfo {
  /** Items (rows) in the runBatch call. */
  items: number;
  /** Requests with at least one item in it. */
  requests: number;
  /** How long its oldest item had waited in the queue when the batch started. */
  waitMs: number;
  runMs: number;
  /** Set when runBatch failed. */
  error?: unknown;
}

export interface BatcherStats {
  queuedItems: number;
  queuedRequests: number;
  runningBatches: number;
  runningItems: number;
  /** Requests accepted into the queue. */
  accepted: number;
  succeeded: number;
  /** Rejected because their batch failed. */
  failed: number;
  /** Rejected at submit because the queue was full. */
  shed: number;
  /** Rejected because their deadline passed (at submit, queued, or while running). */
  expired: number;
  /** Aborted by their signal. */
  cancelled: number;
  /** runBatch calls. */
  batches: number;
}

export interface Batcher<I, O> {
  /** Queues `items` as one request; resolves with their outputs in the same order. */
  submit(items: I[], options?: SubmitOptions): Promise<O[]>;
  /**
   * At low load, runs one request that the caller runs itself (`work`, `rows` rows) as a batch of
   * its own, without queueing it: only while nothing is queued or running, the last batch held a
   * single request, and the request has no deadline or priority (those need the queue). Requests
   * that arrive meanwhile queue behind it as behind any batch; it is counted and reported
   * (`onBatch`) as a batch, and a request whose signal aborts meanwhile is answered with the
   * signal's reason, as a queued one is. Undefined when it does not apply: then submit.
   */
  runExclusive<T>(rows: number, options: SubmitOptions, work: () => Promise<T>): Promise<T> | undefined;
  stats(): BatcherStats;
  /** Stops accepting work, runs what is queued without waiting, and resolves when nothing is left. */
  close(): Promise<void>;
}
