import { isMissingCategory } from './table-columns.ts';

const utf8 = new TextEncoder();

/** 32-bit FNV-1a over the UTF-8 bytes: stable across platforms and cheap to re-implement elsewhere. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Occurrences of each non-missing string. */
export function countCategories(values: (string | null)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) {
    if (isMissingCategory(v)) continue;
    const s = v as string;
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One-hot vocabulary: the `maxCategories` most frequent strings get columns 0..n-1 (most frequent first,
 * ties by string so the result never depends on row order); everything else goes to column n.
 */
export function oneHotIndex(counts: Map<string, number>, maxCategories: number): Map<string, number> {
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || byCodeUnits(a[0], b[0]));
  return new Map(ranked.slice(0, maxCategories).map(([s], i) => [s, i]));
}

/**
 * Hashed encoding: each training-seen string maps to fnv1a32(s) mod buckets; unseen and missing strings go
 * to the reserved column `buckets`. ONNX has no string-hash operator, so the graph carries this table as a
 * LabelEncoder instead of hashing at run time; the reserved column keeps strings the table does not list
 * (which the graph cannot hash) apart from real buckets, and the TypeScript transform does the same.
 */
export function hashedIndex(counts: Map<string, number>, buckets: number): Map<string, number> {
  const seen = [...counts.keys()].sort(byCodeUnits);
  return new Map(seen.map((s) => [s, fnv1a32(s) % buckets]));
}
