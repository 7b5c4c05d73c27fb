import { Counter, type Registry } from 'prom-client';
import type { InferenceLog, InferenceLogStats } from './inference-log.ts';

/**
 * The log's write counters as Prometheus series, read from its stats when /metrics is scraped (no
 * work on the append path). records ÷ writes is how well group commit is batching.
 */
export function registerInferenceLogMetrics(registry: Registry, log: InferenceLog): void {
  const counter = (name: string, help: string, read: (s: InferenceLogStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(log.stats()));
      },
    });
  counter('keel_inference_log_records_total', 'Records appended to the inference log', (s) => s.appends);
  counter('keel_inference_log_writes_total', 'Synchronous writes (each durable before its callers are answered)', (s) => s.syncs);
  counter('keel_inference_log_bytes_total', 'Bytes written to inference log segments', (s) => s.bytes);
}
