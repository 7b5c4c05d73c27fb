import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-buckets.ts';

describe('TokenBuckets', () => {
  it('allows a burst, then one request per refill interval, per key', () => {
    const b = new TokenBuckets();
    expect([0, 0, 0].map(() => b.take('k', 2, 3, 1000))).toEqual([0, 0, 0]);
    expect(b.take('k', 2, 3, 1000)).toBe(500);
    expect(b.take('other', 2, 3, 1000)).toBe(0);
    expect(b.take('k', 2, 3, 1250)).toBe(250);
    expect(b.take('k', 2, 3, 1500)).toBe(0);
    // Idle time refills up to the burst, not beyond.
    expect([0, 0, 0, 0].map(() => b.take('k', 2, 3, 100_000))).toEqual([0, 0, 0, 500]);
  });
});
