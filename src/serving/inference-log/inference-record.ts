/** A JSON value as it is logged: whatever JSON.stringify writes back out unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * One prediction's full context, enough to replay it. The predict path fills it; the log stores
 * it as given (no validation on the hot path beyond JSON serialisation).
 */
export interface InferenceRecord {
  requestId: string;
  /** UTC epoch ms when the request was received. */
  time: number;
  deployment: string;
  model: { name: string; version: number; digest: string };
  /** The rollout arm the request was assigned to; null when the deployment has a single target. */
  arm: string | null;
  /** The request record as received (entity keys and request fields). */
  inputs: JsonObject;
  /** Online feature values and their statuses (PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE), by feature name. */
  features: { values: JsonObject; statuses: Record<string, string> };
  outputs: JsonValue;
  latencyMs: number;
  /** The random draw the routing used (bandits, sampling), so a replay can take the same path. */
  randomDraw: number | null;
  degraded: boolean;
  extra: JsonObject;
}

/**
 * The columns of the `inference_log` view and of the Parquet files, in order: SQL name, DuckDB
 * type, and where the value sits in a logged record (the json_transform structure below).
 */
export const logColumns = [
  { name: 'request_id', type: 'VARCHAR', path: 'r.requestId' },
  { name: 'time', type: 'BIGINT', path: 'r.time' },
  { name: 'deployment', type: 'VARCHAR', path: 'r.deployment' },
  { name: 'model_name', type: 'VARCHAR', path: 'r.model.name' },
  { name: 'model_version', type: 'BIGINT', path: 'r.model.version' },
  { name: 'model_digest', type: 'VARCHAR', path: 'r.model.digest' },
  { name: 'arm', type: 'VARCHAR', path: 'r.arm' },
  { name: 'inputs', type: 'JSON', path: 'r.inputs' },
  { name: 'feature_values', type: 'JSON', path: 'r.features."values"' },
  { name: 'feature_statuses', type: 'JSON', path: 'r.features.statuses' },
  { name: 'outputs', type: 'JSON', path: 'r.outputs' },
  { name: 'latency_ms', type: 'DOUBLE', path: 'r.latencyMs' },
  { name: 'random_draw', type: 'DOUBLE', path: 'r.randomDraw' },
  { name: 'degraded', type: 'BOOLEAN', path: 'r.degraded' },
  { name: 'extra', type: 'JSON', path: 'r.extra' },
] as const;

/** json_transform structure of a logged line: JSON-typed members keep nested values as JSON text. */
export const recordStructure = JSON.stringify({
  requestId: 'VARCHAR',
  time: 'BIGINT',
  deployment: 'VARCHAR',
  model: { name: 'VARCHAR', version: 'BIGINT', digest: 'VARCHAR' },
  arm: 'VARCHAR',
  inputs: 'JSON',
  features: { values: 'JSON', statuses: 'JSON' },
  outputs: 'JSON',
  latencyMs: 'DOUBLE',
  randomDraw: 'DOUBLE',
  degraded: 'BOOLEAN',
  extra: 'JSON',
});

const parseJson = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : fallback);
const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));

/** A row of the `inference_log` view back into the record that was appended. */
export function rowToRecord(row: Record<string, unknown>): InferenceRecord {
  return {
    requestId: row.request_id as string,
    time: num(row.time),
    deployment: row.deployment as string,
    model: { name: row.model_name as string, version: num(row.model_version), digest: row.model_digest as string },
    arm: (row.arm as string | null) ?? null,
    inputs: parseJson<JsonObject>(row.inputs, {}),
    features: {
      values: parseJson<JsonObject>(row.feature_values, {}),
      statuses: parseJson<Record<string, string>>(row.feature_statuses, {}),
    },
    outputs: parseJson<JsonValue>(row.outputs, null),
    latencyMs: num(row.latency_ms),
    randomDraw: row.random_draw === null || row.random_draw === undefined ? null : num(row.random_draw),
    degraded: row.degraded === true,
    extra: parseJson<JsonObject>(row.extra, {}),
  };
}
