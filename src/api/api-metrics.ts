import { collectDefaultMetrics, Registry } from 'prom-client';
import { FastHistogram, type HistogramSeries } from '../core/index.ts';

export interface ApiMetrics {
  registry: Registry;
  httpDuration: FastHistogram<'method' | 'route' | 'status'>;
  /** Observes one answered request; the series of a (route, method, status) is looked up without building a label object. */
  observeHttp(route: string, method: string, status: number, seconds: number): void;
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
  // route → method → status → series. Every key is bounded (routes are registered ones or
  // 'unmatched', methods are the ones Node's parser accepts, statuses are HTTP's), so it stays small.
  const series = new Map<string, Map<string, Map<number, HistogramSeries>>>();
  const observeHttp = (route: string, method: string, status: number, seconds: number) => {
    let byMethod = series.get(route);
    if (!byMethod) {
      byMethod = new Map();
      series.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let s = byStatus.get(status);
    if (!s) {
      s = httpDuration.labels({ method, route, status: String(status) });
      byStatus.set(status, s);
    }
    s.observe(seconds);
  };
  return { registry, httpDuration, observeHttp };
}
