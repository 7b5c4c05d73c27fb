import { describe, expect, it } from 'vitest';
import { trackingLimits } from '../../tracking/index.ts';
import { seededRandom } from './bootstrap.ts';
import { evaluate } from './evaluate.ts';
import { metricsForTracking, trackingKeyPattern } from './tracking-keys.ts';

describe('metricsForTracking', () => {
  const random = seededRandom(11);
  const n = 1000;
  const labels = Float64Array.from({ length: n }, () => (random() < 0.35 ? 1 : 0));
  const scores = labels.map((y) => Math.min(1, Math.max(0, 0.35 + 0.3 * y + (random() - 0.5) * 0.5)));
  const origin = Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : (['ATL', 'São Paulo=GRU', 'ORD'][i % 3] ?? 'x')));
  const result = evaluate({
    task: 'binary',
    labels,
    scores,
    segments: [{ column: 'origin', values: origin }],
    bootstrap: { samples: 50, seed: 3 },
  });
  const flat = metricsForTracking(result);

  it('flattens overall, interval, segment and gap metrics under readable keys', () => {
    expect(flat.auc).toBe(result.overall.auc);
    expect(flat.auc_ci_low).toBe(result.intervals.auc?.low);
    expect(flat.auc_ci_high).toBe(result.intervals.auc?.high);
    const atl = result.segments.find((s) => s.value === 'ATL');
    expect(flat['segment.origin:ATL.auc']).toBe(atl?.metrics.auc);
    expect(flat['segment.origin:ATL.rows']).toBe(atl?.rows);
    expect(flat['segment.origin:_null.rows']).toBe(100);
    expect(flat['gap.origin.auc']).toBe(result.maxGap['origin.auc']);
  });

  it('makes every key one tracking accepts and drops undefined values', () => {
    expect(flat['segment.origin:S_o Paulo_GRU.accuracy']).toBeDefined();
    for (const [key, value] of Object.entries(flat)) {
      expect(key).toMatch(trackingKeyPattern);
      expect(key.length).toBeLessThanOrEqual(trackingLimits.keyLength);
      expect(Number.isFinite(value), key).toBe(true);
    }
  });

  it('keeps segments apart when sanitising or shortening makes their keys collide', () => {
    const long = 'x'.repeat(400);
    const values = Array.from({ length: n }, (_, i) => [`${long}a`, `${long}b`, 'a=b', 'a_b'][i % 4] ?? null);
    const keys = Object.keys(
      metricsForTracking(evaluate({ task: 'binary', labels, scores, segments: [{ column: 'c', values }] })),
    );
    expect(keys.filter((key) => key.endsWith('.rows'))).toHaveLength(4);
    for (const key of keys) expect(key.length).toBeLessThanOrEqual(trackingLimits.keyLength);
  });
});
