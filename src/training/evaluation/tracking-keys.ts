import type { EvaluationResult } from './evaluation-types.ts';

/**
 * Tracking accepts keys of letters, digits, `_ - . / :` and spaces, at most 250 characters
 * (src/tracking/tracking-validation.ts; MLflow's rule). `=` is not allowed, so segment keys use `:`.
 */
export const trackingKeyPattern = /^[\w./\- :]+$/;
const maxKeyLength = 250;

/** Replaces characters tracking rejects (e.g. `=`, `(`, non-ASCII letters) with `_`. */
export const keySafe = (text: string): string => text.replace(/[^\w./\- :]/g, '_');

/**
 * One flat metrics map for a tracking run:
 * - `auc`, `log_loss`, … (overall) and `auc_ci_low`, `auc_ci_high` (bootstrap interval);
 * - `segment.<column>:<value>.<metric>` and `segment.<column>:<value>.rows`, e.g. `segment.origin:ATL.auc`,
 *   with missing values as `_null` and unsafe characters as `_`;
 * - `gap.<column>.<metric>`, e.g. `gap.origin.auc`.
 * Undefined (NaN) metrics are left out, since tracking only stores finite values. Keys too long
 * are shortened in the segment value and keys that collide after sanitising get a `_2`, `_3`… suffix.
 * Many segments can exceed tracking's 1,000 metrics per request; log the map in chunks.
 */
export function metricsForTracking(result: EvaluationResult): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (key: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) out[key] = value;
  };
  for (const [name, value] of Object.entries(result.overall)) put(keySafe(name), value);
  for (const [name, { low, high }] of Object.entries(result.intervals)) {
    put(keySafe(`${name}_ci_low`), low);
    put(keySafe(`${name}_ci_high`), high);
  }
  const taken = new Set<string>();
  for (const segment of result.segments) {
    const longestMetric = Math.max(4, ...Object.keys(segment.metrics).map((name) => name.length));
    const column = keySafe(segment.column);
    const room = maxKeyLength - `segment.${column}:`.length - longestMetric - 1 - 4; // 4 spare for a `_n` suffix
    const base = `segment.${column}:${keySafe(segment.value ?? '_null').slice(0, Math.max(1, room))}`;
    let prefix = base;
    for (let copy = 2; taken.has(prefix); copy++) prefix = `${base}_${copy}`;
    taken.add(prefix);
    put(`${prefix}.rows`, segment.rows);
    for (const [name, value] of Object.entries(segment.metrics)) put(`${prefix}.${keySafe(name)}`, value);
  }
  for (const [name, value] of Object.entries(result.maxGap)) put(`gap.${keySafe(name)}`, value);
  return out;
}
