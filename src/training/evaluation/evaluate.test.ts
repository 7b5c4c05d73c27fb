import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/index.ts';
import { seededRandom } from './bootstrap.ts';
import { evaluate } from './evaluate.ts';
import type { EvaluateInput } from './evaluation-types.ts';

/** A noisy but informative classifier: scores rise with the label, with ties from rounding. */
function syntheticBinary(n: number, seed: number): { labels: Float64Array; scores: Float64Array } {
  const random = seededRandom(seed);
  const labels = new Float64Array(n);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = random() < 0.3 ? 1 : 0;
    scores[i] = Math.round(Math.min(1, Math.max(0, 0.3 + 0.3 * (labels[i] as number) + (random() - 0.5) * 0.6)) * 100) / 100;
  }
  return { labels, scores };
}

const expectValidationError = (input: EvaluateInput, message: RegExp): void => {
  try {
    evaluate(input);
    expect.unreachable('evaluate should have thrown');
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('VALIDATION_FAILED');
    expect((e as AppError).message).toMatch(message);
  }
};

describe('evaluate input checks', () => {
  const f64 = (values: number[]): Float64Array => Float64Array.from(values);
  it('reject empty, misaligned, non-0/1 and NaN input', () => {
    expectValidationError({ task: 'binary', labels: f64([]), scores: f64([]) }, /at least one row/);
    expectValidationError({ task: 'binary', labels: f64([0, 1]), scores: f64([0.5]) }, /scores have 1/);
    expectValidationError({ task: 'binary', labels: f64([0, 2]), scores: f64([0.5, 0.5]) }, /0 or 1/);
    expectValidationError({ task: 'binary', labels: f64([0, 1]), scores: f64([0.5, Number.NaN]) }, /score at row 1 is NaN/);
    expectValidationError({ task: 'regression', labels: f64([0, 1]), scores: f64([3, Number.NaN]) }, /finite/);
    expectValidationError({ task: 'binary', labels: f64([0, 1]), scores: f64([0.5, 0.5]), weights: f64([1]) }, /weights/);
    expectValidationError(
      { task: 'binary', labels: f64([0, 1]), scores: f64([0.5, 0.5]), segments: [{ column: 'a', values: ['x'] }] },
      /segment column 'a' has 1 rows/,
    );
    expectValidationError(
      { task: 'binary', labels: f64([0, 1]), scores: f64([0.5, 0.5]), segments: [{ column: 'a', values: ['x', 'y'], bins: 2 }] },
      /numeric/,
    );
  });
});

describe('bootstrap intervals', () => {
  const { labels, scores } = syntheticBinary(5000, 1);

  it('contain the point estimate and repeat exactly for a seed', () => {
    const first = evaluate({ task: 'binary', labels, scores, bootstrap: { samples: 100, seed: 42 } });
    const again = evaluate({ task: 'binary', labels, scores, bootstrap: { samples: 100, seed: 42 } });
    const other = evaluate({ task: 'binary', labels, scores, bootstrap: { samples: 100, seed: 43 } });
    expect(again.intervals).toEqual(first.intervals);
    expect(other.intervals).not.toEqual(first.intervals);
    for (const [name, value] of Object.entries(first.overall)) {
      const interval = first.intervals[name];
      expect(interval, name).toBeDefined();
      expect(interval?.low, name).toBeLessThanOrEqual(value);
      expect(interval?.high, name).toBeGreaterThanOrEqual(value);
    }
    expect((first.intervals.auc?.high ?? 0) - (first.intervals.auc?.low ?? 1)).toBeGreaterThan(0);
  });

  it('are narrower at a lower confidence', () => {
    const wide = evaluate({ task: 'binary', labels, scores, bootstrap: { samples: 100, seed: 1, confidence: 0.99 } });
    const narrow = evaluate({ task: 'binary', labels, scores, bootstrap: { samples: 100, seed: 1, confidence: 0.5 } });
    const width = (r: typeof wide): number => (r.intervals.auc?.high ?? 0) - (r.intervals.auc?.low ?? 0);
    expect(width(narrow)).toBeLessThan(width(wide));
  });
});

describe('segments', () => {
  const { labels, scores } = syntheticBinary(3000, 2);
  const origin = Array.from({ length: 3000 }, (_, i) => (i % 10 === 9 ? null : (['ATL', 'ORD', 'SFO', 'TINY'][i % 3] ?? 'x')));
  origin[5] = 'TINY';
  const distance = Float64Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? Number.NaN : (i * 37) % 1000));

  it('compute each segment like the rows on their own and gaps as max − min over big segments', () => {
    const result = evaluate({ task: 'binary', labels, scores, segments: [{ column: 'origin', values: origin }] });
    expect(result.segments.map((s) => [s.value, s.rows])).toEqual([
      ['ATL', 900],
      ['ORD', 900],
      ['SFO', 899],
      ['TINY', 1],
      [null, 300],
    ]);
    for (const segment of result.segments) {
      const rows = origin.flatMap((v, i) => (v === segment.value ? [i] : []));
      const alone = evaluate({
        task: 'binary',
        labels: labels.filter((_, i) => rows.includes(i)),
        scores: scores.filter((_, i) => rows.includes(i)),
      });
      for (const [name, value] of Object.entries(alone.overall)) {
        if (Number.isNaN(value)) expect(segment.metrics[name]).toBeNaN();
        else expect(segment.metrics[name]).toBeCloseTo(value, 12);
      }
    }
    const big = result.segments.filter((s) => s.rows >= 100);
    for (const name of ['auc', 'accuracy', 'ece']) {
      const values = big.map((s) => s.metrics[name] as number);
      expect(result.maxGap[`origin.${name}`]).toBe(Math.max(...values) - Math.min(...values));
    }
    // The one-row segment is reported but cannot move the gap; AUC is undefined there.
    expect(result.segments.find((s) => s.value === 'TINY')?.metrics.auc).toBeNaN();
  });

  it('bin numeric columns by quantiles, or segment by value without bins', () => {
    const binned = evaluate({ task: 'binary', labels, scores, segments: [{ column: 'distance', values: distance, bins: 4 }] });
    expect(binned.segments.map((s) => s.value)).toEqual(['0..250', '250..500', '500..750', '750..999', null]);
    const sizes = binned.segments.filter((s) => s.value !== null).map((s) => s.rows);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(3);
    const byValue = evaluate({
      task: 'binary',
      labels,
      scores,
      segments: [{ column: 'd', values: Float64Array.from([...labels]) }],
    });
    expect(byValue.segments.map((s) => s.value)).toEqual(['0', '1']);
    // Equal values are never split across bins, so heavy ties give fewer bins than asked.
    const tied = Float64Array.from({ length: 3000 }, (_, i) => (i < 2000 ? 0 : 1));
    const few = evaluate({ task: 'binary', labels, scores, segments: [{ column: 't', values: tied, bins: 4 }] });
    expect(few.segments.map((s) => [s.value, s.rows])).toEqual([
      ['0..1', 2000],
      ['1..1', 1000],
    ]);
  });
});

describe('regression', () => {
  it('reports R² as NaN when the labels are constant', () => {
    const result = evaluate({
      task: 'regression',
      labels: Float64Array.from([0.1, 0.1, 0.1]),
      scores: Float64Array.from([0, 0.1, 0.2]),
    });
    expect(result.overall.r2).toBeNaN();
    expect(result.overall.mae).toBeCloseTo(0.2 / 3, 15);
  });
});

describe('scale', () => {
  // No timing assertions here (speed belongs in bench/): this checks 1M rows with 50 segments and a bootstrap complete correctly.
  it('evaluates 1M rows with segments and bootstrap intervals', () => {
    const { labels, scores } = syntheticBinary(1_000_000, 3);
    const hub = Array.from({ length: labels.length }, (_, i) => `hub${i % 50}`);
    const result = evaluate({ task: 'binary', labels, scores, segments: [{ column: 'hub', values: hub }] });
    expect(result.segments).toHaveLength(50);
    expect(result.segments.reduce((n, s) => n + s.rows, 0)).toBe(1_000_000);
    const withIntervals = evaluate({ task: 'binary', labels, scores, bootstrap: { samples: 20, seed: 1 } });
    expect(withIntervals.intervals.auc?.low).toBeLessThan(result.overall.auc as number);
    expect(withIntervals.intervals.auc?.high).toBeGreaterThan(result.overall.auc as number);
  }, 120_000);
});
