import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../core/index.ts';

export interface PredictMetrics {
  stage: FastHistogram<'stage' | 'deployment' | 'model_version'>;
  requests: FastCounter<'deployment' | 'model_version' | 'code'>;
  degraded: FastCounter<'deployment' | 'model_version' | 'reason'>;
  batchRows: FastHistogram<'model'>;
  batchSeconds: FastHistogram<'model' | 'part'>;
  queueRows: Gauge<'model'>;
  /**
   * Adds a model batcher's queue to `keel_predict_queue_rows`, read when the gauge is scraped:
   * always current (enqueues included) at no cost per request.
   */
  watchQueue(model: string, queuedRows: () => number): void;
}

/**
 * The `deployment` label of a request whose deployment was never resolved (unknown, or refused
 * before it was looked up): one fixed value, so random names in URLs cannot add series.
 */
export const UNRESOLVED_DEPLOYMENT = '(unresolved)';

const seconds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Prometheus series of the predict path, per stage, deployment and model version. */
export function createPredictMetrics(registry: Registry): PredictMetrics {
  const queues: { model: string; queuedRows: () => number }[] = [];
  return {
    stage: new FastHistogram({
      name: 'keel_predict_stage_seconds',
      help: 'Time per predict stage: features, queue (waiting for a model call), inference (the model call), log, total',
      labelNames: ['stage', 'deployment', 'model_version'] as const,
      buckets: seconds,
      registers: [registry],
    }),
    requests: new FastCounter({
      name: 'keel_predict_requests_total',
      help: `Predict requests by outcome code (ok, or the error code), invalid and unknown-deployment ones included (deployment="${UNRESOLVED_DEPLOYMENT}" when never resolved)`,
      labelNames: ['deployment', 'model_version', 'code'] as const,
      registers: [registry],
    }),
    degraded: new FastCounter({
      name: 'keel_predict_degraded_total',
      help: 'Responses served with last-known or default feature values',
      labelNames: ['deployment', 'model_version', 'reason'] as const,
      registers: [registry],
    }),
    batchRows: new FastHistogram({
      name: 'keel_predict_batch_rows',
      help: 'Rows per model call',
      labelNames: ['model'] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [registry],
    }),
    batchSeconds: new FastHistogram({
      name: 'keel_predict_batch_seconds',
      help: 'Per model call: how long its oldest row queued (part=queue) and the call itself (part=run); batches are shared across deployments of a model',
      labelNames: ['model', 'part'] as const,
      buckets: seconds,
      registers: [registry],
    }),
    queueRows: new Gauge({
      name: 'keel_predict_queue_rows',
      help: 'Rows waiting for a model call',
      labelNames: ['model'] as const,
      registers: [registry],
      collect() {
        // Batchers of one model with different batching options share its series.
        const rows = new Map<string, number>();
        for (const q of queues) rows.set(q.model, (rows.get(q.model) ?? 0) + q.queuedRows());
        for (const [model, n] of rows) this.set({ model }, n);
      },
    }),
    watchQueue(model, queuedRows) {
      queues.push({ model, queuedRows });
    },
  };
}
