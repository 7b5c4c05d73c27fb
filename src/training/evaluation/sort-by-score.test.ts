import { describe, expect, it } from 'vitest';
import { seededRandom } from './bootstrap.ts';
import { sortByScore } from './sort-by-score.ts';

describe('sortByScore', () => {
  it('orders like a stable comparator sort, negatives, −0 and ties included', () => {
    const random = seededRandom(5);
    const scores = Float64Array.from({ length: 5000 }, (_, i) =>
      i % 5 === 0 ? Math.round(random() * 10) / 10 : (random() - 0.5) * 10 ** Math.floor(random() * 12 - 6),
    );
    scores[3] = -0;
    scores[4] = 0;
    scores[6] = Number.NEGATIVE_INFINITY;
    const expected = Array.from(scores.keys()).sort((a, b) => (scores[a] as number) - (scores[b] as number) || a - b);
    expect(Array.from(sortByScore(scores))).toEqual(expected);
  });

  it('handles empty and single-row input', () => {
    expect(Array.from(sortByScore(new Float64Array(0)))).toEqual([]);
    expect(Array.from(sortByScore(Float64Array.from([0.5])))).toEqual([0]);
  });
});
