import { collectDefaultMetrics, Registry } from 'prom-client';
import { FastHistogram } from '../core/index.ts';

export interface ApiMetrics {
  registry: Registry;
  httpDuration: FastHistogram<'method' | 'route' | 'status'>;
}

/** One Prometheus registry per app so tests can run several apps in one process. */
export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keel_' });
  const httpDuration = new FastHistogram({
    name: 'keel_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpDuration };
}
