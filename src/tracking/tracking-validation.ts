import { AppError } from '../core/index.ts';
import type { KeyValue, Metric } from './tracking-types.ts';

/** Limits follow MLflow's so an MLflow-compatible surface can sit on the same data. */
export const trackingLimits = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  keyLength: 250,
  paramValueBytes: 6000,
  tagValueBytes: 8000,
  artifactPathLength: 1000,
} as const;

const keyPattern = /^[\w./\- :]+$/;

export function checkKey(kind: string, key: string): void {
  if (key.length === 0 || key.length > trackingLimits.keyLength || !keyPattern.test(key)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${kind} key '${key.slice(0, 60)}' must be 1–${trackingLimits.keyLength} characters of letters, digits, _ - . / : and spaces`,
      { kind, key: key.slice(0, 250) },
    );
  }
}

export function checkPairs(kind: 'param' | 'tag', pairs: KeyValue[]): void {
  const limit = kind === 'param' ? trackingLimits.paramValueBytes : trackingLimits.tagValueBytes;
  const max = kind === 'param' ? trackingLimits.paramsPerBatch : trackingLimits.tagsPerBatch;
  if (pairs.length > max) throw new AppError('VALIDATION_FAILED', `at most ${max} ${kind}s per request`);
  const seen = new Map<string, string>();
  for (const p of pairs) {
    checkKey(kind, p.key);
    if (Buffer.byteLength(p.value, 'utf8') > limit) {
      throw new AppError('VALIDATION_FAILED', `${kind} '${p.key}' value is longer than ${limit} bytes`);
    }
    if (kind === 'param' && seen.has(p.key) && seen.get(p.key) !== p.value) {
      throw new AppError('PARAM_CONFLICT', `param '${p.key}' is given twice with different values`);
    }
    seen.set(p.key, p.value);
  }
}

export function checkMetrics(metrics: Metric[]): void {
  if (metrics.length > trackingLimits.metricsPerBatch) {
    throw new AppError('VALIDATION_FAILED', `at most ${trackingLimits.metricsPerBatch} metrics per request`);
  }
  for (const m of metrics) {
    checkKey('metric', m.key);
    if (!Number.isFinite(m.value)) throw new AppError('VALIDATION_FAILED', `metric '${m.key}' value must be finite`);
    if (!Number.isSafeInteger(m.step) || !Number.isSafeInteger(m.timestamp) || m.timestamp < 0) {
      throw new AppError('VALIDATION_FAILED', `metric '${m.key}' step and timestamp must be integers (timestamp ≥ 0)`);
    }
  }
}

/**
 * Artifact paths are relative, `/`-separated, with no empty, `.` or `..` segments, so no path
 * can name anything outside the run, whatever decodes it later.
 */
export function normalizeArtifactPath(raw: string): string {
  const path = raw.replace(/^\/+/, '');
  const bad =
    path.length === 0 ||
    path.length > trackingLimits.artifactPathLength ||
    path.includes('\\') ||
    path.includes('\0') ||
    /[\u0000-\u001f]/.test(path) ||
    raw.startsWith('/') ||
    path.split('/').some((seg) => seg === '' || seg === '.' || seg === '..');
  if (bad) {
    throw new AppError(
      'INVALID_PATH',
      `artifact path '${raw.slice(0, 100)}' must be relative, use '/' between parts and contain no empty, '.' or '..' parts`,
    );
  }
  return path;
}
