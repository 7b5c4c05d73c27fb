import type { ValidationReport } from './contract/contract-types.ts';

/** A column as DuckDB reads it from the version's Parquet file. */
export interface ColumnSchema {
  name: string;
  /** DuckDB type name, e.g. BIGINT, VARCHAR, TIMESTAMP, DECIMAL(10,2). */
  type: string;
}

export type ColumnKind = 'numeric' | 'string' | 'boolean' | 'temporal' | 'other';
export type JsonScalar = string | number | boolean | null;

export const quantileLevels = { p01: 0.01, p05: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95, p99: 0.99 } as const;
export type QuantileName = keyof typeof quantileLevels;

export interface ColumnProfile {
  name: string;
  type: string;
  kind: ColumnKind;
  nullCount: number;
  /** nullCount / rows (0 for an empty dataset). */
  nullRate: number;
  /** HyperLogLog estimate of distinct non-null values. */
  distinct: number | null;
  /** Numbers for numeric columns, ISO-8601 times for temporal ones. */
  min?: number | string | null;
  max?: number | string | null;
  mean?: number | null;
  std?: number | null;
  quantiles?: Record<QuantileName, number | null>;
  /** The 10 most frequent non-null values (strings, booleans, low-cardinality numbers); ties by value. */
  topValues?: { value: JsonScalar; count: number }[];
}

export interface DatasetProfile {
  rows: number;
  columns: ColumnProfile[];
}

export interface Lineage {
  /** Versions this one was derived from (given, or read by its query). */
  parents: string[];
  /** The pipeline step or process that produced it. */
  step: string | null;
  runId: string | null;
}

export type SourceSummary =
  | { kind: 'files'; files: string[] }
  | { kind: 'query'; query: string }
  | { kind: 'upload'; digests: string[] };

export interface Dataset {
  id: string;
  projectId: string;
  name: string;
  description: string;
  createdAt: number;
  createdBy: string;
}

export type VersionStatus = 'ok' | 'flagged';

export interface DatasetVersion {
  /** `dsv_` + the first 24 hex digits of `digest`: the same content has the same id. */
  id: string;
  projectId: string;
  datasetId: string;
  /** sha256 of the canonical Parquet file, which is also its blob. */
  digest: string;
  sizeBytes: number;
  rows: number;
  columns: ColumnSchema[];
  profile: DatasetProfile;
  status: VersionStatus;
  /** `name@version` of the contract checked at registration, or null. */
  contract: string | null;
  validation: ValidationReport | null;
  lineage: Lineage;
  source: SourceSummary;
  description: string;
  createdAt: number;
  createdBy: string;
}

/** A version without its profile and report, for listings. */
export type DatasetVersionSummary = Omit<DatasetVersion, 'profile' | 'validation'>;

export interface StoredContract {
  projectId: string;
  name: string;
  version: number;
  yaml: string;
  policy: 'strict' | 'warn';
  createdAt: number;
  createdBy: string;
}
