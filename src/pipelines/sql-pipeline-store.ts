import type { Kysely } from 'kysely';
import {
  type Database,
  isUniqueViolation,
  type PipelineCacheRow,
  type PipelineDefinitionRow,
  type PipelineRunRow,
  type PipelineStepRow,
  parseJsonColumn,
  uniqueInsert,
} from '../storage/index.ts';
import type { PipelineSpec } from './pipeline-spec.ts';
import type { PipelineStore } from './pipeline-stores.ts';
import type { CacheEntry, PipelineDefinition, PipelineRun, StepOutputs, StepRun } from './pipeline-types.ts';

const toDefinition = (r: PipelineDefinitionRow): PipelineDefinition => ({
  projectId: r.project_id,
  name: r.name,
  version: r.version,
  spec: parseJsonColumn<PipelineSpec>(r.spec) as PipelineSpec,
  digest: r.digest,
  baseDir: r.base_dir,
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
});

const toRun = (r: PipelineRunRow): PipelineRun => ({
  id: r.id,
  projectId: r.project_id,
  pipeline: r.pipeline,
  version: r.version,
  status: r.status as PipelineRun['status'],
  params: parseJsonColumn(r.params) ?? {},
  trigger: r.trigger,
  trackingRunId: r.tracking_run_id,
  error: r.error,
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
});

const toStep = (r: PipelineStepRow): StepRun => ({
  runId: r.run_id,
  step: r.step,
  status: r.status as StepRun['status'],
  attempts: r.attempts,
  cacheKey: r.cache_key,
  explain: r.explain,
  outputs: parseJsonColumn<StepOutputs>(r.outputs),
  trackingRunId: r.tracking_run_id,
  error: r.error,
  startedAt: r.started_at === null ? null : Number(r.started_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
});

const toCache = (r: PipelineCacheRow): CacheEntry => ({
  projectId: r.project_id,
  key: r.cache_key,
  pipeline: r.pipeline,
  step: r.step,
  parts: parseJsonColumn(r.parts) as CacheEntry['parts'],
  outputs: parseJsonColumn(r.outputs) as StepOutputs,
  runId: r.run_id,
  createdAt: Number(r.created_at),
});

export class SqlPipelineStore implements PipelineStore {
  constructor(private readonly db: Kysely<Database>) {}

  async putDefinition(d: PipelineDefinition): Promise<void> {
    await uniqueInsert(
      this.db
        .insertInto('pipeline_definitions')
        .values({
          project_id: d.projectId,
          name: d.name,
          version: d.version,
          spec: JSON.stringify(d.spec),
          digest: d.digest,
          base_dir: d.baseDir,
          created_at: d.createdAt,
          created_by: d.createdBy,
        })
        .execute(),
      `pipeline '${d.name}' version ${d.version} already exists`,
    );
  }

  async latestDefinition(projectId: string, name: string): Promise<PipelineDefinition | null> {
    const r = await this.db
      .selectFrom('pipeline_definitions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? toDefinition(r) : null;
  }

  async getDefinition(projectId: string, name: string, version: number): Promise<PipelineDefinition | null> {
    const r = await this.db
      .selectFrom('pipeline_definitions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    return r ? toDefinition(r) : null;
  }

  async listDefinitions(projectId: string | null): Promise<PipelineDefinition[]> {
    let q = this.db
      .selectFrom('pipeline_definitions as d')
      .selectAll('d')
      .where(({ eb, selectFrom }) =>
        eb(
          'd.version',
          '=',
          selectFrom('pipeline_definitions as n')
            .select((x) => x.fn.max('n.version').as('v'))
            .whereRef('n.project_id', '=', 'd.project_id')
            .whereRef('n.name', '=', 'd.name'),
        ),
      );
    if (projectId !== null) q = q.where('d.project_id', '=', projectId);
    return (await q.orderBy('d.project_id').orderBy('d.name').execute()).map(toDefinition);
  }

  async createRun(run: PipelineRun, steps: StepRun[]): Promise<void> {
    await this.db
      .insertInto('pipeline_runs')
      .values({
        id: run.id,
        project_id: run.projectId,
        pipeline: run.pipeline,
        version: run.version,
        status: run.status,
        params: JSON.stringify(run.params),
        trigger: run.trigger,
        tracking_run_id: run.trackingRunId,
        error: run.error,
        created_at: run.createdAt,
        created_by: run.createdBy,
        finished_at: run.finishedAt,
      })
      .execute();
    if (steps.length === 0) return;
    await this.db
      .insertInto('pipeline_steps')
      .values(
        steps.map((s, position) => ({
          run_id: s.runId,
          step: s.step,
          position,
          status: s.status,
          attempts: s.attempts,
          cache_key: s.cacheKey,
          explain: s.explain,
          outputs: s.outputs === null ? null : JSON.stringify(s.outputs),
          tracking_run_id: s.trackingRunId,
          error: s.error,
          started_at: s.startedAt,
          finished_at: s.finishedAt,
        })),
      )
      .execute();
  }

  async getRun(id: string): Promise<PipelineRun | null> {
    const r = await this.db.selectFrom('pipeline_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRun(r) : null;
  }

  async listRuns(projectId: string, pipeline: string | null, limit: number): Promise<PipelineRun[]> {
    let q = this.db.selectFrom('pipeline_runs').selectAll().where('project_id', '=', projectId);
    if (pipeline !== null) q = q.where('pipeline', '=', pipeline);
    return (await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()).map(toRun);
  }

  async runsWithStatus(status: PipelineRun['status']): Promise<PipelineRun[]> {
    return (await this.db.selectFrom('pipeline_runs').selectAll().where('status', '=', status).execute()).map(toRun);
  }

  async updateRun(id: string, p: Partial<Pick<PipelineRun, 'status' | 'error' | 'finishedAt' | 'trackingRunId'>>) {
    const set: Partial<PipelineRunRow> = {};
    if (p.status !== undefined) set.status = p.status;
    if (p.error !== undefined) set.error = p.error;
    if (p.finishedAt !== undefined) set.finished_at = p.finishedAt;
    if (p.trackingRunId !== undefined) set.tracking_run_id = p.trackingRunId;
    if (Object.keys(set).length > 0) await this.db.updateTable('pipeline_runs').set(set).where('id', '=', id).execute();
  }

  async getSteps(runId: string): Promise<StepRun[]> {
    const rows = await this.db.selectFrom('pipeline_steps').selectAll().where('run_id', '=', runId).orderBy('position').execute();
    return rows.map(toStep);
  }

  async updateStep(runId: string, step: string, p: Partial<Omit<StepRun, 'runId' | 'step'>>): Promise<void> {
    const set: Partial<PipelineStepRow> = {};
    if (p.status !== undefined) set.status = p.status;
    if (p.attempts !== undefined) set.attempts = p.attempts;
    if (p.cacheKey !== undefined) set.cache_key = p.cacheKey;
    if (p.explain !== undefined) set.explain = p.explain;
    if (p.outputs !== undefined) set.outputs = p.outputs === null ? null : JSON.stringify(p.outputs);
    if (p.trackingRunId !== undefined) set.tracking_run_id = p.trackingRunId;
    if (p.error !== undefined) set.error = p.error;
    if (p.startedAt !== undefined) set.started_at = p.startedAt;
    if (p.finishedAt !== undefined) set.finished_at = p.finishedAt;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('pipeline_steps').set(set).where('run_id', '=', runId).where('step', '=', step).execute();
  }

  async getCache(projectId: string, key: string): Promise<CacheEntry | null> {
    const r = await this.db
      .selectFrom('pipeline_cache')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('cache_key', '=', key)
      .executeTakeFirst();
    return r ? toCache(r) : null;
  }

  async lastCacheFor(projectId: string, pipeline: string, step: string): Promise<CacheEntry | null> {
    const r = await this.db
      .selectFrom('pipeline_cache')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('pipeline', '=', pipeline)
      .where('step', '=', step)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? toCache(r) : null;
  }

  async putCache(e: CacheEntry): Promise<void> {
    try {
      await this.db
        .insertInto('pipeline_cache')
        .values({
          project_id: e.projectId,
          cache_key: e.key,
          pipeline: e.pipeline,
          step: e.step,
          parts: JSON.stringify(e.parts),
          outputs: JSON.stringify(e.outputs),
          run_id: e.runId,
          created_at: e.createdAt,
        })
        .execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
}
