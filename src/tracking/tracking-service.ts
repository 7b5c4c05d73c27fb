import type { Readable } from 'node:stream';
import { type AuditStore, authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, decodePageToken, encodePageToken, newId, type Page, type Transactor } from '../core/index.ts';
import type { BlobStore } from '../storage/index.ts';
import { runView } from './run-view.ts';
import { fieldValue, isNumericField, type OrderKey, parseFilter, parseOrderBy } from './search/index.ts';
import type { ExperimentStore, RunStore } from './tracking-stores.ts';
import {
  type Artifact,
  type Experiment,
  type KeyValue,
  type Metric,
  type Run,
  type RunInput,
  type RunStatus,
  type RunWithData,
  terminalStatuses,
} from './tracking-types.ts';
import { checkKey, checkMetrics, checkPairs, normalizeArtifactPath } from './tracking-validation.ts';

export interface TrackingStores {
  experiments: ExperimentStore;
  runs: RunStore;
  audit: AuditStore;
}

export interface StartRunInput {
  projectId: string;
  /** Experiment id, or a name (created when missing, as MLflow's set_experiment does). */
  experiment: string;
  name?: string;
  params?: KeyValue[];
  tags?: KeyValue[];
  inputs?: RunInput[];
  codeVersion?: string | null;
  parentRunId?: string | null;
  startTime?: number;
}

export interface LogBatchInput {
  metrics?: Metric[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

export interface SearchRunsInput {
  projectIds: string[] | '*';
  experimentIds?: string[];
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
}

type Cursor = { q: string; v: (string | number | null)[]; id: string };

/** Whether a cursor value has the type its sort key's column holds (times are integers in bigint columns). */
function fitsOrderKey(v: unknown, key: OrderKey | undefined): boolean {
  if (v === null) return true;
  if (!key) return false;
  if (!isNumericField(key.field)) return typeof v === 'string';
  return key.field.kind === 'attribute' ? Number.isSafeInteger(v) : typeof v === 'number' && Number.isFinite(v);
}
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' && v !== null && typeof (v as Cursor).id === 'string' && Array.isArray((v as Cursor).v);

export class TrackingService {
  constructor(
    private readonly tx: Transactor<TrackingStores>,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly limits: { artifactBytes: number },
  ) {}

  private get s() {
    return this.tx.stores;
  }

  async createExperiment(actor: Principal, projectId: string, input: { name: string; description?: string }) {
    authorize(actor, 'tracking:write', projectId);
    return this.tx.transaction((s) => this.insertExperiment(s, actor, projectId, input));
  }

  private async insertExperiment(
    s: TrackingStores,
    actor: Principal,
    projectId: string,
    input: { name: string; description?: string },
  ): Promise<Experiment> {
    const exp: Experiment = {
      id: newId('experiment'),
      projectId,
      name: input.name,
      description: input.description ?? '',
      createdAt: this.clock.now(),
      createdBy: actor.id,
    };
    await s.experiments.create(exp);
    await recordAudit(s.audit, this.clock, actor, {
      action: 'experiment.create',
      resourceType: 'experiment',
      resourceId: exp.id,
      projectId,
      after: { name: exp.name },
    });
    return exp;
  }

  async getExperiment(actor: Principal, id: string): Promise<Experiment> {
    // Role first, as for runs: a role that may not read gets 403 whether or not the id exists.
    authorize(actor, 'tracking:read');
    const exp = await this.s.experiments.get(id);
    if (!exp) throw new AppError('NOT_FOUND', `experiment '${id}' does not exist`);
    authorize(actor, 'tracking:read', exp.projectId);
    return exp;
  }

  async listExperiments(actor: Principal, projectIds: string[] | '*'): Promise<Experiment[]> {
    authorize(actor, 'tracking:read');
    if (projectIds !== '*') for (const p of projectIds) authorize(actor, 'tracking:read', p);
    return this.s.experiments.list(projectIds);
  }

  async startRun(actor: Principal, input: StartRunInput): Promise<RunWithData> {
    authorize(actor, 'tracking:write', input.projectId);
    if (input.params) checkPairs('param', input.params);
    if (input.tags) checkPairs('tag', input.tags);
    const runId = await this.tx.transaction(async (s) => {
      const exp =
        (input.experiment.startsWith('exp_') ? await s.experiments.get(input.experiment) : null) ??
        (await s.experiments.getByName(input.projectId, input.experiment)) ??
        (await this.insertExperiment(s, actor, input.projectId, { name: input.experiment }));
      if (exp.projectId !== input.projectId) throw new AppError('NOT_FOUND', `experiment '${input.experiment}' does not exist`);
      if (input.parentRunId) {
        const parent = await s.runs.get(input.parentRunId);
        if (!parent || parent.projectId !== input.projectId) {
          throw new AppError('NOT_FOUND', `parent run '${input.parentRunId}' does not exist`);
        }
      }
      const run: Run = {
        id: newId('run'),
        projectId: input.projectId,
        experimentId: exp.id,
        name: input.name ?? '',
        status: 'RUNNING',
        startTime: input.startTime ?? this.clock.now(),
        endTime: null,
        createdBy: actor.id,
        codeVersion: input.codeVersion ?? null,
        parentRunId: input.parentRunId ?? null,
      };
      if (!run.name) run.name = run.id;
      await s.runs.create(run);
      await s.runs.logParams(run.id, input.params ?? []);
      await s.runs.setTags(run.id, input.tags ?? []);
      await s.runs.addInputs(run.id, input.inputs ?? []);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'run.create',
        resourceType: 'run',
        resourceId: run.id,
        projectId: run.projectId,
        after: { experiment: exp.name, name: run.name, params: input.params?.length ?? 0 },
      });
      return run.id;
    });
    return this.getRun(actor, runId);
  }

  /** Loads a run and checks the caller may `read` or `write` its project. */
  private async runFor(actor: Principal, id: string, mode: 'read' | 'write'): Promise<Run> {
    authorize(actor, mode === 'read' ? 'tracking:read' : 'tracking:write');
    const run = await this.s.runs.get(id);
    if (!run) throw new AppError('NOT_FOUND', `run '${id}' does not exist`);
    authorize(actor, mode === 'read' ? 'tracking:read' : 'tracking:write', run.projectId);
    return run;
  }

  async getRun(actor: Principal, id: string): Promise<RunWithData> {
    await this.runFor(actor, id, 'read');
    const run = await this.s.runs.getWithData(id);
    if (!run) throw new AppError('NOT_FOUND', `run '${id}' does not exist`);
    return run;
  }

  async updateRun(actor: Principal, id: string, input: { status: RunStatus; endTime?: number }): Promise<RunWithData> {
    await this.runFor(actor, id, 'write');
    await this.tx.transaction(async (s) => {
      // Read again inside the transaction: two concurrent finishes must not both see RUNNING.
      const run = await s.runs.get(id);
      if (!run) throw new AppError('NOT_FOUND', `run '${id}' does not exist`);
      if (run.status === input.status) return;
      if (terminalStatuses.has(run.status)) {
        throw new AppError('INVALID_STATE', `run '${id}' is ${run.status}; a finished run cannot change status`);
      }
      const endTime = terminalStatuses.has(input.status) ? (input.endTime ?? this.clock.now()) : null;
      await s.runs.setStatus(id, input.status, endTime);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'run.update',
        resourceType: 'run',
        resourceId: id,
        projectId: run.projectId,
        before: { status: run.status },
        after: { status: input.status, endTime },
      });
    });
    return this.getRun(actor, id);
  }

  /** Metrics, params and tags in one atomic write (at most 1000 metrics). */
  async logBatch(actor: Principal, runId: string, input: LogBatchInput): Promise<void> {
    const run = await this.runFor(actor, runId, 'write');
    const now = this.clock.now();
    const metrics = (input.metrics ?? []).map((m) => ({ ...m, step: m.step ?? 0, timestamp: m.timestamp ?? now }));
    checkMetrics(metrics);
    checkPairs('param', input.params ?? []);
    checkPairs('tag', input.tags ?? []);
    await this.tx.transaction(async (s) => {
      await s.runs.logParams(runId, input.params ?? []);
      await s.runs.setTags(runId, input.tags ?? []);
      await s.runs.logMetrics(runId, metrics);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'run.log',
        resourceType: 'run',
        resourceId: runId,
        projectId: run.projectId,
        after: {
          metrics: metrics.length,
          metricKeys: [...new Set(metrics.map((m) => m.key))].slice(0, 20),
          params: (input.params ?? []).map((p) => p.key),
          tags: (input.tags ?? []).map((t) => t.key),
        },
      });
    });
  }

  async deleteTag(actor: Principal, runId: string, key: string): Promise<void> {
    const run = await this.runFor(actor, runId, 'write');
    checkKey('tag', key);
    await this.tx.transaction(async (s) => {
      if (!(await s.runs.deleteTag(runId, key))) throw new AppError('NOT_FOUND', `run has no tag '${key}'`);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'run.tag.delete',
        resourceType: 'run',
        resourceId: runId,
        projectId: run.projectId,
        before: { tag: key },
      });
    });
  }

  async logInputs(actor: Principal, runId: string, inputs: RunInput[]): Promise<void> {
    const run = await this.runFor(actor, runId, 'write');
    await this.tx.transaction(async (s) => {
      await s.runs.addInputs(runId, inputs);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'run.inputs',
        resourceType: 'run',
        resourceId: runId,
        projectId: run.projectId,
        after: { inputs: inputs.map((i) => i.digest) },
      });
    });
  }

  async metricHistory(actor: Principal, runId: string, key: string, maxResults = 10000, pageToken?: string) {
    await this.runFor(actor, runId, 'read');
    const offset = pageToken ? decodePageToken(pageToken, (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0) : 0;
    const points = await this.s.runs.metricHistory(runId, key, maxResults + 1, offset);
    const items = points.slice(0, maxResults);
    return { items, nextPageToken: points.length > maxResults ? encodePageToken(offset + maxResults) : null };
  }

  /** Streams the upload into the blob store, then makes it visible under `path` in one write. */
  async uploadArtifact(actor: Principal, runId: string, rawPath: string, body: Readable): Promise<Artifact> {
    const run = await this.runFor(actor, runId, 'write');
    const path = normalizeArtifactPath(rawPath);
    const blob = await this.blobs.put(body, { maxBytes: this.limits.artifactBytes });
    const artifact: Artifact = { path, digest: blob.digest, size: blob.size, createdAt: this.clock.now() };
    await this.tx.transaction(async (s) => {
      const before = await s.runs.getArtifact(runId, path);
      await s.runs.putArtifact(runId, artifact);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'artifact.upload',
        resourceType: 'run',
        resourceId: runId,
        projectId: run.projectId,
        before: before ? { path, digest: before.digest } : null,
        after: { path, digest: artifact.digest, size: artifact.size },
      });
    });
    return artifact;
  }

  async getArtifact(actor: Principal, runId: string, rawPath: string): Promise<{ artifact: Artifact; body: Readable }> {
    await this.runFor(actor, runId, 'read');
    const path = normalizeArtifactPath(rawPath);
    const artifact = await this.s.runs.getArtifact(runId, path);
    if (!artifact) throw new AppError('NOT_FOUND', `run '${runId}' has no artifact '${path}'`);
    return { artifact, body: await this.blobs.open(artifact.digest) };
  }

  async listArtifacts(actor: Principal, runId: string, prefix = ''): Promise<Artifact[]> {
    await this.runFor(actor, runId, 'read');
    const clean = prefix === '' ? '' : `${normalizeArtifactPath(prefix.replace(/\/+$/, ''))}/`;
    return this.s.runs.listArtifacts(runId, clean);
  }

  async searchRuns(actor: Principal, input: SearchRunsInput): Promise<Page<RunWithData>> {
    authorize(actor, 'tracking:read');
    let projectIds = input.projectIds;
    if (projectIds === '*' && actor.projects !== '*') projectIds = [...actor.projects];
    if (projectIds !== '*') for (const p of projectIds) authorize(actor, 'tracking:read', p);
    const filter = parseFilter(input.filter);
    const order = parseOrderBy(input.orderBy);
    const limit = Math.min(Math.max(input.maxResults ?? 100, 1), 1000);
    const fingerprint = JSON.stringify([input.filter ?? '', order, input.experimentIds ?? []]);
    let after: { values: (string | number | null)[]; id: string } | undefined;
    if (input.pageToken) {
      const c = decodePageToken(input.pageToken, isCursor);
      if (c.q !== fingerprint) throw new AppError('INVALID_PAGE_TOKEN', 'page_token belongs to a different search');
      // The fingerprint is not signed: a forged token could carry values the SQL cannot bind.
      if (c.v.length !== order.length || !c.v.every((v, i) => fitsOrderKey(v, order[i]))) {
        throw new AppError('INVALID_PAGE_TOKEN', 'page_token is not a token this server issued');
      }
      after = { values: c.v, id: c.id };
    }
    const runs = await this.s.runs.search({
      projectIds,
      ...(input.experimentIds ? { experimentIds: input.experimentIds } : {}),
      filter,
      order,
      limit: limit + 1,
      ...(after ? { after } : {}),
    });
    const items = runs.slice(0, limit);
    const last = items[items.length - 1];
    let nextPageToken: string | null = null;
    if (runs.length > limit && last) {
      const view = runView(
        last,
        new Map(last.metrics.map((m) => [m.key, m.value])),
        new Map(last.params.map((p) => [p.key, p.value])),
        new Map(last.tags.map((t) => [t.key, t.value])),
      );
      nextPageToken = encodePageToken({ q: fingerprint, v: order.map((o) => fieldValue(view, o.field)), id: last.id });
    }
    return { items, nextPageToken };
  }
}
