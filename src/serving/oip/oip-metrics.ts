import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../core/index.ts';
import { type BatchInfo, batchObserver } from '../batching/index.ts';

/**
 * Prometheus series of /v2 infer, per model and version (Triton's per-model request, duration
 * and batch counters, in Keel's naming). The predict API has its own (`keel_predict_*`), per
 * deployment.
 */
export interface OipMetrics {
  requests: FastCounter<'model' | 'model_version' | 'code'>;
  seconds: FastHistogram<'model' | 'model_version'>;
  batchRows: FastHistogram<'model'>;
  batchSeconds: FastHistogram<'model' | 'part'>;
  /** A batcher's `onBatch` recording its model calls (rows, queue and run seconds). */
  observerFor(model: string): (info: BatchInfo) => void;
  /** Adds a batcher's queue to `keel_oip_queue_rows`, read when scraped. */
  watchQueue(model: string, queuedRows: () => number): void;
}

/**
 * The `model` label of an infer request whose model was never resolved (unknown, or refused
 * before the lookup): one fixed value, so names made up in URLs add no series.
 */
export const UNRESOLVED_MODEL = '(unresolved)';

const seconds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createOipMetrics(registry: Registry): OipMetrics {
  const queues: { model: string; queuedRows: () => number }[] = [];
  const batchRows = new FastHistogram({
    name: 'keel_oip_batch_rows',
    help: 'Rows per model call of /v2 infer',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [registry],
  });
  const batchSeconds = new FastHistogram({
    name: 'keel_oip_batch_seconds',
    help: 'Per /v2 model call: how long its oldest row queued (part=queue) and the call itself (part=run)',
    labelNames: ['model', 'part'] as const,
    buckets: seconds,
    registers: [registry],
  });
  // Registered here, read from the batchers when scraped: current at no cost per request.
  new Gauge({
    name: 'keel_oip_queue_rows',
    help: 'Rows of /v2 infer requests waiting for a model call',
    labelNames: ['model'] as const,
    registers: [registry],
    collect() {
      for (const q of queues) this.set({ model: q.model }, q.queuedRows());
    },
  });
  return {
    requests: new FastCounter({
      name: 'keel_oip_requests_total',
      help: `/v2 infer requests by outcome code (ok, or the error code), refused ones included (model="${UNRESOLVED_MODEL}" when never resolved)`,
      labelNames: ['model', 'model_version', 'code'] as const,
      registers: [registry],
    }),
    seconds: new FastHistogram({
      name: 'keel_oip_request_seconds',
      help: 'Time in Keel of a successful /v2 infer request, from its model lookup to its encoded outputs',
      labelNames: ['model', 'model_version'] as const,
      buckets: seconds,
      registers: [registry],
    }),
    batchRows,
    batchSeconds,
    observerFor: (model) => batchObserver(batchRows, batchSeconds, model),
    watchQueue(model, queuedRows) {
      queues.push({ model, queuedRows });
    },
  };
}
