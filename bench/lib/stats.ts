/** Latency summary of one measured series, in milliseconds. */
export interface LatencyStats {
  count: number;
  p50: number;
  p95: number;
  mean: number;
  /** Completed operations per second over the wall time of the series. */
  throughput: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function summarize(latenciesMs: number[], wallMs: number): LatencyStats {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    throughput: wallMs > 0 ? (sorted.length / wallMs) * 1000 : Number.NaN,
  };
}

/** Raw timings of a series: per-operation latencies and the wall time they took together. */
export interface Samples {
  latencies: number[];
  wallMs: number;
}

/**
 * Runs operations `from`..`to`-1 on `concurrency` workers pulling from one counter (a closed
 * loop: each worker starts its next operation when its last one ends) and times each one.
 */
export async function runClosedLoop(
  from: number,
  to: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
  into: Samples = { latencies: [], wallMs: 0 },
): Promise<Samples> {
  let next = from;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < to; i = next++) {
      const t0 = performance.now();
      await op(i);
      into.latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(concurrency, to - from)) }, worker));
  into.wallMs += performance.now() - started;
  return into;
}

/**
 * Times two ways of doing the same operations in alternating rounds (A B, B A, A B, …), so a
 * change in machine load during the run falls on both sides alike instead of skewing the ratio.
 */
export async function alternate(
  total: number,
  rounds: number,
  run: (side: 'a' | 'b', from: number, to: number, into: Samples) => Promise<unknown>,
): Promise<{ a: LatencyStats; b: LatencyStats }> {
  const a: Samples = { latencies: [], wallMs: 0 };
  const b: Samples = { latencies: [], wallMs: 0 };
  const per = Math.ceil(total / rounds);
  for (let r = 0, from = 0; from < total; r++, from += per) {
    const to = Math.min(total, from + per);
    const order = r % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    for (const side of order) await run(side, from, to, side === 'a' ? a : b);
  }
  return { a: summarize(a.latencies, a.wallMs), b: summarize(b.latencies, b.wallMs) };
}

export const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
export const fmtRatio = (r: number) => `${r.toFixed(2)}×`;
