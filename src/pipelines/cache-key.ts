import { createHash } from 'node:crypto';
import type { CacheKeyParts } from './pipeline-types.ts';

/** JSON with object keys sorted, so equal values always hash the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const sha256 = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');

/** sha256 of (step code, params, input content digests): equal keys mean the step would compute the same thing. */
export function cacheKey(kind: string, parts: CacheKeyParts): string {
  return `sha256:${sha256(canonicalJson({ kind, ...parts }))}`;
}

/** Why a step missed the cache, compared with the last time it ran (or that it never did). */
export function explainMiss(parts: CacheKeyParts, previous: CacheKeyParts | null): string {
  if (!previous) return 'miss: no earlier result for this step';
  const reasons: string[] = [];
  if (previous.code !== parts.code) reasons.push('step code changed');
  const changedParams = diffKeys(previous.params, parts.params);
  if (changedParams.length > 0) reasons.push(`params changed (${changedParams.join(', ')})`);
  const changedInputs = diffKeys(previous.inputs, parts.inputs);
  if (changedInputs.length > 0) reasons.push(`inputs changed (${changedInputs.join(', ')})`);
  return `miss: ${reasons.length > 0 ? reasons.join('; ') : 'key changed'}`;
}

function diffKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k]));
}
