/**
 * wrk 4 "corrects" its latency histogram for coordinated omission before a script's `done()`
 * sees it: for every recorded latency n ≥ 2 × interval (interval = the run's µs ÷ the requests
 * per connection, about the mean latency) it adds the same count at n − interval, n − 2·interval,
 * … while above interval. Those samples never happened. In a closed loop, where each connection
 * sends its next request only after its last answer, they inflate the request count and push
 * the percentiles toward the tail, more for a side with a long tail than for one without.
 */

/** wrk's own interval: µs of the run ÷ requests per connection, both integer divisions as in wrk.c. */
export function wrkCorrectionInterval(durationUs: number, requests: number, connections: number): number | undefined {
  const perConnection = Math.floor(requests / connections);
  return perConnection > 0 ? Math.floor(durationUs / perConnection) : undefined;
}

/**
 * The histogram wrk recorded, from the one it handed to `done()`: the correction undone exactly.
 * Samples only ever move to lower values, so walking down from the largest value, each bin's
 * original count is its count less what the bins above it added.
 */
export function undoWrkCorrection(corrected: Map<number, number>, interval: number | undefined): Map<number, number> {
  if (interval === undefined || interval <= 0) return new Map(corrected);
  const added = new Map<number, number>();
  const original = new Map<number, number>();
  for (const n of [...corrected.keys()].sort((a, b) => b - a)) {
    const count = (corrected.get(n) ?? 0) - (added.get(n) ?? 0);
    if (count < 0) throw new Error(`wrk histogram: value ${n} µs holds fewer samples than its correction added`);
    if (count > 0) original.set(n, count);
    if (n >= 2 * interval && count > 0) {
      for (let m = n - interval; m > interval; m -= interval) added.set(m, (added.get(m) ?? 0) + count);
    }
  }
  return original;
}
