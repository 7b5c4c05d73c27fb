import type { Kysely } from 'kysely';
import type { Database } from '../../src/storage/index.ts';
import { type Metric, SqlRunStore } from '../../src/tracking/index.ts';
import type { BenchHttpClient } from '../lib/http-client.ts';
import { type LatencyStats, summarize } from '../lib/stats.ts';
import { prng } from './seed.ts';

export interface LogBatchOptions {
  /** Seeded runs to log to; each batch gets its own run. */
  runIds: string[];
  batches: number;
  warmup: number;
  pointsPerBatch: number;
  metricKeys: number;
}

/** A training-loop batch: every metric key at consecutive steps after the seeded step 0. */
function batch(rand: () => number, points: number, keys: number, t0: number): Metric[] {
  return Array.from({ length: points }, (_, k) => ({
    key: `m${k % keys}`,
    value: rand(),
    step: 1 + Math.floor(k / keys),
    timestamp: t0 + k,
  }));
}

/**
 * Log-batch through the API (POST /runs/:id/log) and the same rows written directly (metric
 * points + latest-metric upsert in one transaction, via SqlRunStore.logMetrics), one request at
 * a time, alternating so both see the same table sizes and WAL state.
 */
export async function benchLogBatch(
  client: BenchHttpClient,
  db: Kysely<Database>,
  opts: LogBatchOptions,
): Promise<{ keel: LatencyStats; direct: LatencyStats }> {
  const total = opts.warmup + opts.batches;
  if (opts.runIds.length < total * 2) throw new Error(`log-batch needs ${total * 2} runs, the seed has ${opts.runIds.length}`);
  const rand = prng(7);
  const t0 = Date.now();
  const keelTimes: number[] = [];
  const directTimes: number[] = [];
  let keelWall = 0;
  let directWall = 0;
  for (let i = 0; i < total; i++) {
    // The client's JSON encoding happens before the clock starts, as the direct side has none.
    const keelRun = opts.runIds[2 * i] as string;
    const body = JSON.stringify({ metrics: batch(rand, opts.pointsPerBatch, opts.metricKeys, t0) });
    const directRun = opts.runIds[2 * i + 1] as string;
    const points = batch(rand, opts.pointsPerBatch, opts.metricKeys, t0);

    let start = performance.now();
    await client.expect('POST', `/api/v1/runs/${keelRun}/log`, body, 204);
    const keelMs = performance.now() - start;
    start = performance.now();
    await db.transaction().execute((trx) => new SqlRunStore(trx).logMetrics(directRun, points));
    const directMs = performance.now() - start;
    if (i < opts.warmup) continue;
    keelTimes.push(keelMs);
    directTimes.push(directMs);
    keelWall += keelMs;
    directWall += directMs;
  }
  return { keel: summarize(keelTimes, keelWall), direct: summarize(directTimes, directWall) };
}
