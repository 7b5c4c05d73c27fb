import { describe, expect, it } from 'vitest';
import { undoWrkCorrection, wrkCorrectionInterval } from './wrk-histogram.ts';

/** wrk's stats_correct, as its source describes it: the reference the inverse is checked against. */
function correct(original: Map<number, number>, interval: number): Map<number, number> {
  const data = new Map(original);
  const max = Math.max(...original.keys());
  for (let n = interval * 2; n <= max; n++) {
    const count = original.get(n) ?? 0;
    for (let m = n - interval; count && m > interval; m -= interval) data.set(m, (data.get(m) ?? 0) + count);
  }
  return data;
}

describe('undoWrkCorrection', () => {
  it('gives back exactly the histogram wrk recorded, tail included', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const original = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      // Mostly 300–600 µs, with a long tail up to 20 ms.
      const v = random() < 0.95 ? 300 + Math.floor(random() * 300) : 600 + Math.floor(random() ** 3 * 20_000);
      original.set(v, (original.get(v) ?? 0) + 1);
    }
    const requests = 5000;
    const interval = wrkCorrectionInterval(2_000_000, requests, 1) as number;
    expect(interval).toBe(400);
    const corrected = correct(original, interval);
    const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    expect(sum(corrected)).toBeGreaterThan(requests);
    const undone = undoWrkCorrection(corrected, interval);
    expect(sum(undone)).toBe(requests);
    expect(undone).toEqual(original);
  });

  it('leaves a histogram alone when wrk applied no correction', () => {
    expect(wrkCorrectionInterval(1_000_000, 10, 64)).toBeUndefined();
    const h = new Map([[500, 3]]);
    expect(undoWrkCorrection(h, undefined)).toEqual(h);
  });
});
