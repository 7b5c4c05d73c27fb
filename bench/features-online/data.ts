/**
 * Deterministic feature data for the online benchmarks: a small PRNG, and columnar blocks shaped
 * like materialized aggregates (mostly floats, some counts, some categorical codes).
 */

export const featureNames = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `f${String(i).padStart(3, '0')}`);

import { seededRandom as prng } from '../../src/core/index.ts';

export { prng };

const codes = ['JFK', 'LAX', 'ORD', 'ATL', 'DFW', 'DEN', 'SFO', 'SEA', 'LAS', 'MCO'];

/**
 * `rows` rows × `features` columns: 80% floats with 6 decimals (means, rates), 10% integer
 * counts, 10% short strings; about 1 value in 50 is null, as sparse aggregates are.
 */
export function columnarBlock(rows: number, features: number, seed: number): (number | string | null)[][] {
  const next = prng(seed);
  return Array.from({ length: features }, (_, f) => {
    const kind = f % 10 === 8 ? 'count' : f % 10 === 9 ? 'code' : 'float';
    return Array.from({ length: rows }, () => {
      const r = next();
      if (r < 0.02) return null;
      if (kind === 'count') return Math.floor(r * 5000);
      if (kind === 'code') return codes[Math.floor(r * codes.length)] ?? 'UNK';
      return Math.round((r - 0.3) * 1e8) / 1e6;
    });
  });
}

/** Entity keys `from`..`from+count-1` as strings (canonical single-part keys). */
export function entityRange(from: number, count: number): string[] {
  const keys = new Array<string>(count);
  for (let i = 0; i < count; i++) keys[i] = String(from + i);
  return keys;
}
