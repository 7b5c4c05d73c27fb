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
  model_policies: ModelPolicyRow;
  model_approvals: ModelApprovalRow;
  datasets: DatasetRow;
  dataset_versions: DatasetVersionRow;
  dataset_lineage: DatasetLineageRow;
  data_contracts: DataContractRow;
  feature_objects: FeatureObjectRow;
  feature_view_state: FeatureViewStateRow;
  pipeline_definitions: PipelineDefinitionRow;
  pipeline_runs: PipelineRunRow;
  pipeline_steps: PipelineStepRow;
  pipeline_cache: PipelineCacheRow;
  deployments: DeploymentRow;
  deployment_revisions: DeploymentRevisionRow;
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

export interface ModelPolicyRow {
  model_id: string;
  /** JSON: the checked, normalized promotion policy. */
  policy: string;
  /** The policy text as submitted (YAML or JSON). */
  source: string;
  updated_at: number;
  updated_by: string;
}

export interface ModelApprovalRow {
  model_id: string;
  version: number;
  /** The alias the approval is for, or `*` for any protected alias. */
  alias: string;
  approver: string;
  role: string;
  comment: string;
  at: number;
}

export interface DatasetRow {
  id: string;
  project_id: string;
  name: string;
  description: string;
  created_at: number;
  created_by: string;
}

export interface DatasetVersionRow {
  project_id: string;
  /** `dsv_` + the first 24 hex digits of the digest. */
  id: string;
  dataset_id: string;
  digest: string;
  size_bytes: number;
  row_count: number;
  /** JSON: [{name, type}]. */
  columns: string;
  /** JSON: the profile computed at registration. */
  profile: string;
  /** `ok` or `flagged` (a `warn` contract failed). */
  status: string;
  /** `name@version` of the contract checked at registration. */
  contract: string | null;
  /** JSON: the validation report. */
  validation: string | null;
  /** JSON: {parents, step, runId}. */
  lineage: string;
  /** JSON: what the version was built from (files, query or uploads). */
  source: string;
  description: string;
  created_at: number;
  created_by: string;
}

export interface DatasetLineageRow {
  project_id: string;
  child_id: string;
  parent_id: string;
}

export interface DataContractRow {
  project_id: string;
  name: string;
  version: number;
  yaml: string;
  policy: string;
  created_at: number;
  created_by: string;
}

export interface FeatureObjectRow {
  project_id: string;
  kind: string;
  name: string;
  version: number;
  /** JSON of the object's definition. */
  spec: string;
  digest: string;
  created_at: number;
  created_by: string;
  deleted_at: number | null;
}

export interface FeatureViewStateRow {
  project_id: string;
  view: string;
  /** Materialized up to this time (epoch ms). */
  watermark: number | null;
  materialized_at: number | null;
  rows_written: number;
}

export interface PipelineDefinitionRow {
  project_id: string;
  name: string;
  version: number;
  spec: string;
  digest: string;
  base_dir: string | null;
  created_at: number;
  created_by: string;
}

export interface PipelineRunRow {
  id: string;
  project_id: string;
  pipeline: string;
  version: number;
  status: string;
  params: string;
  trigger: string;
  tracking_run_id: string | null;
  error: string | null;
  created_at: number;
  created_by: string;
  finished_at: number | null;
}

export interface PipelineStepRow {
  run_id: string;
  step: string;
  /** Order of the step in the spec, for stable listings. */
  position: number;
  status: string;
  attempts: number;
  cache_key: string | null;
  explain: string | null;
  outputs: string | null;
  tracking_run_id: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface PipelineCacheRow {
  project_id: string;
  cache_key: string;
  pipeline: string;
  step: string;
  parts: string;
  outputs: string;
  run_id: string;
  created_at: number;
}

export interface DeploymentRow {
  id: string;
  project_id: string;
  name: string;
  revision: number;
  /** JSON: target model and reference, serving options. */
  spec: string;
  created_at: number;
  updated_at: number;
  updated_by: string;
}

export interface DeploymentRevisionRow {
  deployment_id: string;
  revision: number;
  spec: string;
  /** The model version the target resolved to when the revision was written (null before migration 0007). */
  version: number | null;
  reason: string;
  at: number;
  by: string;
}
