import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { loadClientConfig } from '../core/index.ts';
import type { AliasMove, ModelSignature, ModelVersion } from '../registry/index.ts';
import type { Artifact, Experiment, KeyValue, Metric, RunInput, RunStatus, RunWithData } from '../tracking/index.ts';
import { DatasetsClient } from './datasets-client.ts';
import { DeploymentsApi } from './deployments-client.ts';
import { FeaturesApi } from './features-client.ts';
import { HttpClient, type Query } from './http.ts';
import { PipelinesApi } from './pipelines-client.ts';
import { type PredictionView, predictWith } from './predict-client.ts';
import { PromotionApi } from './promotion-client.ts';
import { type ParamValue, RunHandle, uploadRunArtifact } from './run-handle.ts';

export interface KeelClientOptions {
  /** Default: KEEL_URL, else http://127.0.0.1:7878. */
  url?: string;
  /** Default: KEEL_API_KEY. */
  apiKey?: string;
  /** Project name for every call (default: `default`). */
  project?: string;
  timeoutMs?: number;
}

export interface StartRunOptions {
  experiment: string;
  name?: string;
  params?: Record<string, ParamValue>;
  tags?: Record<string, string>;
  inputs?: RunInput[];
  /** Git commit; by default read from `git rev-parse HEAD` in the working directory when there is one. */
  codeVersion?: string | null;
  parentRunId?: string;
}

export interface RegisterModelOptions {
  name: string;
  /** A local ONNX file, or an artifact of a run. */
  file?: string;
  run?: { runId: string; path: string };
  signature?: ModelSignature;
  metrics?: Record<string, number>;
  lineage?: {
    runId?: string;
    datasetDigests?: string[];
    codeVersion?: string;
    featureService?: string;
    /** Digest of the pinned evaluation dataset the metrics were measured on (for `no_regression` gates). */
    evalDatasetDigest?: string;
  };
  tags?: Record<string, string>;
  description?: string;
}

export type RegisteredVersion = ModelVersion & { modelName: string; aliases: string[] };

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

const pairs = (o: Record<string, ParamValue> | undefined) =>
  Object.entries(o ?? {}).map(([key, value]) => ({ key, value: String(value) }));

/** The TypeScript SDK; the CLI is built on it too. */
export class KeelClient {
  readonly http: HttpClient;
  readonly project: string;
  /** Feature store: apply, online and historical reads, materialization. */
  readonly features: FeaturesApi;
  /** Datasets and data contracts. */
  readonly data: DatasetsClient;
  /** Promotion gates: model policies, approvals, gate dry runs. */
  readonly promotion: PromotionApi;
  readonly pipelines: PipelinesApi;
  readonly deployments: DeploymentsApi;
  /** Predictions from a deployment: one record or a batch. */
  readonly predict: (
    deployment: string,
    records: Record<string, unknown> | Record<string, unknown>[],
    parameters?: { timeout?: number; priority?: number },
  ) => Promise<PredictionView>;

  constructor(opts: KeelClientOptions = {}) {
    const cfg = loadClientConfig({ url: opts.url, apiKey: opts.apiKey });
    this.http = new HttpClient({ url: cfg.url, apiKey: cfg.apiKey, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
    this.project = opts.project ?? 'default';
    this.features = new FeaturesApi(this.http, this.project);
    this.data = new DatasetsClient(this.http, (extra) => this.q(extra));
    this.promotion = new PromotionApi(this.http, (extra) => this.q(extra));
    this.pipelines = new PipelinesApi(this.http, this.project);
    this.deployments = new DeploymentsApi(this.http, this.project);
    this.predict = predictWith(this.http, this.project);
  }

  private q(extra: Query = {}): Query {
    return { project: this.project, ...extra };
  }

  async startRun(opts: StartRunOptions): Promise<RunHandle> {
    const params = pairs(opts.params);
    const info = await this.http.json<RunWithData>('POST', 'api/v1/runs', {
      query: this.q(),
      json: {
        experiment: opts.experiment,
        ...(opts.name ? { name: opts.name } : {}),
        params: params.slice(0, 100),
        tags: pairs(opts.tags),
        inputs: opts.inputs ?? [],
        codeVersion: opts.codeVersion === undefined ? gitCommit() : opts.codeVersion,
        ...(opts.parentRunId ? { parentRunId: opts.parentRunId } : {}),
      },
    });
    const run = new RunHandle(this.http, info);
    if (params.length > 100) await run.logParams(Object.fromEntries(params.slice(100).map((p) => [p.key, p.value])));
    return run;
  }

  getRun(id: string): Promise<RunWithData> {
    return this.http.json('GET', `api/v1/runs/${encodeURIComponent(id)}`);
  }

  /** One atomic batch to an existing run, for callers that did not start it (the CLI). */
  async logBatch(runId: string, batch: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    await this.http.json('POST', `api/v1/runs/${encodeURIComponent(runId)}/log`, { json: batch });
  }

  endRun(runId: string, status: RunStatus = 'FINISHED'): Promise<RunWithData> {
    return this.http.json('PATCH', `api/v1/runs/${encodeURIComponent(runId)}`, { json: { status } });
  }

  /** Streams a local file to a run's artifacts at `artifactPath` (default: the file name). */
  uploadArtifact(runId: string, localPath: string, artifactPath?: string): Promise<Artifact> {
    return uploadRunArtifact(this.http, runId, localPath, artifactPath);
  }

  /** Recomputes a logged prediction and says whether it matches exactly. */
  replayPrediction(requestId: string) {
    return this.http.json<{
      request_id: string;
      matches: boolean;
      model: { name: string; version: number; digest: string };
      recorded: unknown;
      recomputed: unknown;
    }>('POST', `api/v1/inference-log/${encodeURIComponent(requestId)}/replay`, { json: {} });
  }

  /** A read-only DuckDB query over the inference log (view `inference_log`; admin keys). */
  queryInferenceLog(sql: string, maxRows?: number) {
    return this.http.json<{ columns: string[]; rows: Record<string, unknown>[]; truncated: boolean }>(
      'POST',
      'api/v1/inference-log/query',
      {
        json: { sql, ...(maxRows ? { maxRows } : {}) },
      },
    );
  }

  /** An artifact's bytes. */
  async downloadArtifact(runId: string, path: string): Promise<Buffer> {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    const res = await this.http.request('GET', `api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encoded}`);
    return Buffer.from(await res.arrayBuffer());
  }

  listArtifacts(runId: string, path?: string) {
    return this.http.json<{ artifacts: Artifact[] }>('GET', `api/v1/runs/${encodeURIComponent(runId)}/artifacts`, {
      query: { path },
    });
  }

  searchRuns(
    opts: { filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string; experimentIds?: string[] } = {},
  ) {
    return this.http.json<{ runs: RunWithData[]; nextPageToken: string | null }>('POST', 'api/v1/runs/search', {
      json: { projects: [this.project], ...opts },
    });
  }

  listRuns(opts: { experiment?: string[]; limit?: number; pageToken?: string } = {}) {
    return this.http.json<{ runs: RunWithData[]; nextPageToken: string | null }>('GET', 'api/v1/runs', {
      query: this.q({ experiment: opts.experiment, limit: opts.limit, pageToken: opts.pageToken }),
    });
  }

  listExperiments() {
    return this.http.json<{ experiments: Experiment[] }>('GET', 'api/v1/experiments', { query: this.q() });
  }

  createExperiment(name: string, description?: string) {
    return this.http.json<Experiment>('POST', 'api/v1/experiments', { query: this.q(), json: { name, description } });
  }

  /** Uploads the file (if any) and registers a new version; the model is created when new. */
  async registerModel(opts: RegisterModelOptions): Promise<RegisteredVersion> {
    let source: { upload: string } | { runId: string; path: string };
    if (opts.file) {
      const size = (await stat(opts.file)).size;
      const up = await this.http.json<{ digest: string }>('POST', 'api/v1/uploads', {
        body: createReadStream(opts.file),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        timeoutMs: 60 * 60_000,
      });
      source = { upload: up.digest };
    } else if (opts.run) {
      source = opts.run;
    } else {
      throw new TypeError('registerModel needs `file` or `run`');
    }
    const { name, file: _f, run: _r, ...rest } = opts;
    return this.http.json('POST', `api/v1/models/${encodeURIComponent(name)}/versions`, {
      query: this.q(),
      json: { source, ...rest },
    });
  }

  /** Points `alias` at `version` (needs the deployer role); promotion gates may refuse. */
  setAlias(opts: { model: string; alias: string; version: number; reason?: string }): Promise<AliasMove> {
    return this.http.json('PUT', `api/v1/models/${encodeURIComponent(opts.model)}/aliases/${encodeURIComponent(opts.alias)}`, {
      query: this.q(),
      json: { version: opts.version, ...(opts.reason ? { reason: opts.reason } : {}) },
    });
  }

  deleteAlias(opts: { model: string; alias: string; reason?: string }): Promise<AliasMove> {
    return this.http.json('DELETE', `api/v1/models/${encodeURIComponent(opts.model)}/aliases/${encodeURIComponent(opts.alias)}`, {
      query: this.q({ reason: opts.reason }),
    });
  }

  /** Which version the alias pointed at, at `at` (epoch ms or ISO time; default now). */
  aliasAt(model: string, alias: string, at?: number | string) {
    return this.http.json<{ model: string; alias: string; at: number; version: number | null; move: AliasMove | null }>(
      'GET',
      `api/v1/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}`,
      { query: this.q({ at: at === undefined ? undefined : String(at) }) },
    );
  }

  aliasHistory(model: string, alias?: string) {
    return this.http.json<{ moves: AliasMove[] }>('GET', `api/v1/models/${encodeURIComponent(model)}/alias-history`, {
      query: this.q({ alias }),
    });
  }

  listModels() {
    return this.http.json<{ models: unknown[] }>('GET', 'api/v1/models', { query: this.q() });
  }

  getModel(name: string) {
    return this.http.json<Record<string, unknown>>('GET', `api/v1/models/${encodeURIComponent(name)}`, { query: this.q() });
  }

  listVersions(name: string) {
    return this.http.json<{ versions: RegisteredVersion[] }>('GET', `api/v1/models/${encodeURIComponent(name)}/versions`, {
      query: this.q(),
    });
  }

  getVersion(name: string, ref: string | number) {
    return this.http.json<RegisteredVersion>(
      'GET',
      `api/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(String(ref))}`,
      {
        query: this.q(),
      },
    );
  }

  createKey(opts: { role: string; projects?: string[]; name?: string; expiresInSeconds?: number }) {
    return this.http.json<{ id: string; key: string; role: string; projects: string[]; expiresAt: number | null }>(
      'POST',
      'api/v1/keys',
      {
        json: { projects: [this.project], ...opts },
      },
    );
  }

  listKeys() {
    return this.http.json<{ keys: Record<string, unknown>[] }>('GET', 'api/v1/keys');
  }

  revokeKey(id: string) {
    return this.http.json<Record<string, unknown>>('DELETE', `api/v1/keys/${encodeURIComponent(id)}`);
  }

  listProjects() {
    return this.http.json<{ projects: Record<string, unknown>[] }>('GET', 'api/v1/projects');
  }

  createProject(name: string, description?: string) {
    return this.http.json<Record<string, unknown>>('POST', 'api/v1/projects', { json: { name, description } });
  }

  audit(
    filter: {
      actor?: string;
      resource?: string;
      resourceType?: string;
      action?: string;
      since?: string | number;
      until?: string | number;
      limit?: number;
      pageToken?: string;
    } = {},
  ) {
    const query: Query = {};
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) query[k] = String(v);
    return this.http.json<{ events: Record<string, unknown>[]; nextPageToken: string | null }>('GET', 'api/v1/audit', { query });
  }

  whoami() {
    return this.http.json<{ id: string; name: string; role: string; projects: string[] }>('GET', 'api/v1/whoami');
  }
}
