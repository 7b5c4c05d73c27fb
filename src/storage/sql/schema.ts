import type { Generated } from 'kysely';

export type SqlDialectName = 'sqlite' | 'postgres';

/** Row types for the one SQL schema shared by SQLite and Postgres. Times are epoch ms. */
export interface Database {
  projects: ProjectRow;
  api_keys: ApiKeyRow;
  audit_events: AuditEventRow;
  experiments: ExperimentRow;
  runs: RunRow;
  params: ParamRow;
  metrics: MetricRow;
  latest_metrics: LatestMetricRow;
  run_tags: TagRow;
  run_inputs: RunInputRow;
  artifacts: ArtifactRow;
  registered_models: RegisteredModelRow;
  model_versions: ModelVersionRow;
  model_aliases: ModelAliasRow;
  alias_moves: AliasMoveRow;
}

export interface ProjectRow {
  id: string;
  name: string;
  description: string;
  created_at: number;
  created_by: string;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  secret_hash: string;
  role: string;
  /** JSON array of project ids, or `["*"]` for every project. */
  projects: string;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface AuditEventRow {
  seq: Generated<number>;
  id: string;
  at: number;
  actor: string;
  action: string;
  resource_type: string;
  resource_id: string;
  project_id: string | null;
  before: string | null;
  after: string | null;
}

export interface ExperimentRow {
  id: string;
  project_id: string;
  name: string;
  description: string;
  created_at: number;
  created_by: string;
}

export interface RunRow {
  id: string;
  project_id: string;
  experiment_id: string;
  name: string;
  status: string;
  start_time: number;
  end_time: number | null;
  created_by: string;
  code_version: string | null;
  parent_run_id: string | null;
}

export interface ParamRow {
  run_id: string;
  key: string;
  value: string;
}

export interface MetricRow {
  run_id: string;
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export interface LatestMetricRow {
  run_id: string;
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export interface TagRow {
  run_id: string;
  key: string;
  value: string;
}

export interface RunInputRow {
  run_id: string;
  digest: string;
  name: string;
  context: string;
}

export interface ArtifactRow {
  run_id: string;
  path: string;
  digest: string;
  size: number;
  created_at: number;
}

export interface RegisteredModelRow {
  id: string;
  project_id: string;
  name: string;
  description: string;
  created_at: number;
  created_by: string;
}

export interface ModelVersionRow {
  id: string;
  model_id: string;
  version: number;
  source: string;
  run_id: string | null;
  artifact_digest: string;
  artifact_size: number;
  /** JSON: signature, metrics, lineage, tags. */
  manifest: string;
  description: string;
  created_at: number;
  created_by: string;
}

export interface ModelAliasRow {
  model_id: string;
  alias: string;
  version: number;
  updated_at: number;
}

export interface AliasMoveRow {
  id: string;
  model_id: string;
  alias: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  reason: string;
  at: number;
  /** JSON: checks run by promotion gates at move time (null when none ran). */
  checks: string | null;
}
