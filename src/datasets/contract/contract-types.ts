export const fieldTypes = ['string', 'int', 'float', 'bool', 'timestamp', 'date'] as const;
export type FieldType = (typeof fieldTypes)[number];
export type ContractPolicy = 'strict' | 'warn';

export interface FieldRule {
  type: FieldType;
  /** Not null. `nullable: false` in YAML means the same. */
  required: boolean;
  unique: boolean;
  /** Numbers for int/float; epoch ms for timestamp/date (written as ISO-8601 in YAML). */
  min?: number;
  max?: number;
  allowed?: (string | number | boolean)[];
  pattern?: string;
}

/** `mustBeLessThan`: a number of rows or a percentage of all rows. */
export interface Threshold {
  value: number;
  unit: 'rows' | 'percent';
}

export interface QualityRule {
  kind: 'null_share' | 'invalid_share';
  field: string;
  threshold: Threshold;
}

export interface Contract {
  name: string;
  description?: string;
  policy: ContractPolicy;
  fields: Record<string, FieldRule>;
  /** `maxStaleness` as written (`7d`), for reports. */
  freshness?: { field: string; maxStalenessMs: number; maxStaleness: string; asOf?: number };
  volume?: { minRows?: number; maxRows?: number };
  quality: QualityRule[];
}

export type RowCheckKind = 'required' | 'min' | 'max' | 'allowed' | 'pattern';
export type CheckKind = 'type' | RowCheckKind | 'unique' | 'freshness' | 'volume' | 'null_share' | 'invalid_share';

export type SampleRow = Record<string, unknown>;

export interface CheckResult {
  /** `<field>.<kind>`, or `volume.min_rows` / `volume.max_rows`. */
  name: string;
  kind: CheckKind;
  field: string | null;
  passed: boolean;
  /** What was measured: a count, an extreme value, a share, a type or a time. */
  observed: number | string | null;
  /** The limit it was held to, as the contract states it. */
  threshold: unknown;
  unit?: 'rows' | 'percent';
  /** Rows that break the rule (row-level checks), else null. */
  failingRows: number | null;
  message: string;
  /** Up to 20 offending rows, for failed row-level checks. */
  samples: SampleRow[];
  details?: Record<string, unknown>;
}

export interface ValidationReport {
  contract: { name: string; version: number | null; policy: ContractPolicy };
  passed: boolean;
  rows: number;
  /** Epoch ms that freshness was measured against. */
  asOf: number;
  failed: number;
  checks: CheckResult[];
}

/** One row rule compiled both to SQL and to the in-process validator (they must agree). */
export interface RecordError {
  field: string;
  check: 'type' | RowCheckKind;
  message: string;
}
