/**
 * DuckDB rows as JSON-safe values: times as ISO-8601, big integers as numbers when exact (else
 * strings), NaN and infinities as null, bytes as hex. Reports and profiles are stored and sent as JSON.
 */
export function toJsonValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonValue(x)]));
  return v;
}

export const toJsonRow = (row: Record<string, unknown>): Record<string, unknown> => toJsonValue(row) as Record<string, unknown>;
