import { type AuditStore, authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, type Logger, newId, type Transactor } from '../core/index.ts';
import { canonicalJson, sha256 } from './cache-key.ts';
import type { PipelineRunner } from './pipeline-runner.ts';
import { type PipelineSpec, parsePipelineSpec } from './pipeline-spec.ts';
import type { PipelineStore } from './pipeline-stores.ts';
import type { ParamValue, PipelineDefinition, PipelineRun, StepRun } from './pipeline-types.ts';
import type { StepKind } from './step-kind.ts';

export interface PipelineStores {
  pipelines: PipelineStore;
  audit: AuditStore;
}

export interface StartRunOptions {
  params?: Record<string, ParamValue>;
  trigger?: string;
  /** Pin a definition version; the latest by default. */
  version?: number;
}

/** Pipelines: versioned definitions, runs started by hand or by triggers, resume and cancel. */
export class PipelineService {
  /** Runs executing in this process, so callers (and tests) can await them. */
  private readonly inFlight = new Map<string, Promise<PipelineRun>>();
  /** Called after a new version is stored (triggers re-read their schedules). */
  afterApply: () => Promise<void> = async () => {};

  constructor(
    private readonly tx: Transactor<PipelineStores>,
    private readonly runner: PipelineRunner,
    private readonly kinds: ReadonlyMap<string, StepKind>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  private get s() {
    return this.tx.stores;
  }

  /** Checks a spec, including each step's params, without storing it. */
  check(input: unknown): PipelineSpec {
    const spec = parsePipelineSpec(input, new Set(this.kinds.keys()));
    const problems: string[] = [];
    for (const step of spec.steps) {
      try {
        // Params that name run params are checked at run time, once they have values.
        if (!JSON.stringify(step.params).includes('${params.')) this.kinds.get(step.kind)?.checkParams?.(step.params, step);
      } catch (e) {
        problems.push(`steps.${step.name}.params: ${(e as Error).message}`);
      }
    }
    if (problems.length > 0) throw new AppError('VALIDATION_FAILED', `invalid pipeline: ${problems.join('; ')}`, { problems });
    return spec;
  }

  /** Stores a new version when the spec changed; returns the current one otherwise. */
  async apply(actor: Principal, projectId: string, input: unknown, baseDir: string | null) {
    authorize(actor, 'pipeline:run', projectId);
    const spec = this.check(input);
    const digest = `sha256:${sha256(canonicalJson({ spec, baseDir }))}`;
    const result = await this.tx.transaction(async (s) => {
      const latest = await s.pipelines.latestDefinition(projectId, spec.name);
      if (latest?.digest === digest) return { definition: latest, changed: false };
      const definition: PipelineDefinition = {
        projectId,
        name: spec.name,
        version: (latest?.version ?? 0) + 1,
        spec,
        digest,
        baseDir,
        createdAt: this.clock.now(),
        createdBy: actor.id,
      };
      await s.pipelines.putDefinition(definition);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'pipeline.apply',
        resourceType: 'pipeline',
        resourceId: `${spec.name}@${definition.version}`,
        projectId,
        after: { steps: spec.steps.map((x) => x.name) },
      });
      return { definition, changed: true };
    });
    if (result.changed) await this.afterApply();
    return result;
  }

  async list(actor: Principal, projectId: string) {
    authorize(actor, 'tracking:read', projectId);
    return this.s.pipelines.listDefinitions(projectId);
  }

  async get(actor: Principal, projectId: string, name: string, version?: number): Promise<PipelineDefinition> {
    authorize(actor, 'tracking:read', projectId);
    const def =
      version === undefined
        ? await this.s.pipelines.latestDefinition(projectId, name)
        : await this.s.pipelines.getDefinition(projectId, name, version);
    if (!def)
      throw new AppError('NOT_FOUND', `pipeline '${name.slice(0, 64)}'${version ? ` version ${version}` : ''} does not exist`);
    return def;
  }

  /** Creates the run and its steps, then executes it in the background; `done` settles when it ends. */
  async start(actor: Principal, projectId: string, name: string, opts: StartRunOptions = {}) {
    authorize(actor, 'pipeline:run', projectId);
    const def = await this.get(actor, projectId, name, opts.version);
    const params = { ...def.spec.params };
    for (const [k, v] of Object.entries(opts.params ?? {})) {
      if (!(k in params))
        throw new AppError(
          'VALIDATION_FAILED',
          `pipeline '${name}' has no param '${k}' (params: ${Object.keys(params).join(', ') || 'none'})`,
        );
      params[k] = coerce(v, params[k] as ParamValue);
    }
    const run: PipelineRun = {
      id: newId('pipelineRun'),
      projectId,
      pipeline: name,
      version: def.version,
      status: 'running',
      params,
      trigger: opts.trigger ?? 'manual',
      trackingRunId: null,
      error: null,
      createdAt: this.clock.now(),
      createdBy: actor.id,
      finishedAt: null,
    };
    const steps: StepRun[] = def.spec.steps.map((st) => ({
      runId: run.id,
      step: st.name,
      status: 'pending',
      attempts: 0,
      cacheKey: null,
      explain: null,
      outputs: null,
      trackingRunId: null,
      error: null,
      startedAt: null,
      finishedAt: null,
    }));
    await this.tx.transaction(async (s) => {
      await s.pipelines.createRun(run, steps);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'pipeline.run',
        resourceType: 'pipeline_run',
        resourceId: run.id,
        projectId,
        after: { pipeline: `${name}@${def.version}`, trigger: run.trigger, params },
      });
    });
    return { run, done: this.launch(run, def, actor) };
  }

  /** Continues a failed, cancelled or interrupted run: finished steps keep their outputs. */
  async resume(actor: Principal, runId: string) {
    const run = await this.getRunRecord(actor, runId);
    authorize(actor, 'pipeline:run', run.projectId);
    if (this.inFlight.has(runId)) throw new AppError('INVALID_STATE', `pipeline run '${runId}' is still running`);
    if (run.status === 'succeeded') throw new AppError('INVALID_STATE', `pipeline run '${runId}' already succeeded`);
    const def = await this.get(actor, run.projectId, run.pipeline, run.version);
    await recordAudit(this.s.audit, this.clock, actor, {
      action: 'pipeline.resume',
      resourceType: 'pipeline_run',
      resourceId: run.id,
      projectId: run.projectId,
    });
    const resumed = { ...run, status: 'running' as const };
    return { run: resumed, done: this.launch(resumed, def, actor) };
  }

  async cancel(actor: Principal, runId: string) {
    const run = await this.getRunRecord(actor, runId);
    authorize(actor, 'pipeline:run', run.projectId);
    if (!this.runner.cancel(runId)) throw new AppError('INVALID_STATE', `pipeline run '${runId}' is not running here`);
    await recordAudit(this.s.audit, this.clock, actor, {
      action: 'pipeline.cancel',
      resourceType: 'pipeline_run',
      resourceId: run.id,
      projectId: run.projectId,
    });
    return (await this.inFlight.get(runId)) ?? run;
  }

  async getRun(actor: Principal, runId: string): Promise<PipelineRun & { steps: StepRun[] }> {
    const run = await this.getRunRecord(actor, runId);
    return { ...run, steps: await this.s.pipelines.getSteps(runId) };
  }

  async listRuns(actor: Principal, projectId: string, pipeline: string | null, limit = 50) {
    authorize(actor, 'tracking:read', projectId);
    return this.s.pipelines.listRuns(projectId, pipeline, Math.min(Math.max(limit, 1), 500));
  }

  /** Awaits a run executing in this process (tests, CLI `--wait` in-process). */
  wait(runId: string): Promise<PipelineRun> | undefined {
    return this.inFlight.get(runId);
  }

  /**
   * Runs left `running` by a process that died are marked failed (interrupted) at startup, so
   * `resume` can pick them up; nothing resumes on its own, as the kill may have been deliberate.
   */
  async recoverInterrupted(): Promise<number> {
    const stale = await this.s.pipelines.runsWithStatus('running');
    for (const r of stale) {
      if (this.inFlight.has(r.id)) continue;
      for (const st of await this.s.pipelines.getSteps(r.id)) {
        if (st.status === 'running') await this.s.pipelines.updateStep(r.id, st.step, { status: 'failed', error: 'interrupted' });
      }
      await this.s.pipelines.updateRun(r.id, {
        status: 'failed',
        error: 'interrupted: the server stopped during the run',
        finishedAt: this.clock.now(),
      });
    }
    return stale.length;
  }

  /** Waits for every run in flight (graceful shutdown). */
  async drain(): Promise<void> {
    for (const id of this.inFlight.keys()) this.runner.cancel(id);
    await Promise.allSettled(this.inFlight.values());
  }

  private launch(run: PipelineRun, def: PipelineDefinition, actor: Principal): Promise<PipelineRun> {
    const done = this.runner
      .execute(run, def, actor)
      .catch(async (e) => {
        this.logger.error({ err: e, run: run.id }, 'pipeline run crashed');
        const error = `internal error: ${(e as Error).message}`;
        await this.s.pipelines.updateRun(run.id, { status: 'failed', error, finishedAt: this.clock.now() });
        return { ...run, status: 'failed' as const, error };
      })
      .finally(() => this.inFlight.delete(run.id));
    this.inFlight.set(run.id, done);
    return done;
  }

  private async getRunRecord(actor: Principal, runId: string): Promise<PipelineRun> {
    authorize(actor, 'tracking:read');
    const run = await this.s.pipelines.getRun(runId);
    if (!run) throw new AppError('NOT_FOUND', `pipeline run '${runId.slice(0, 64)}' does not exist`);
    authorize(actor, 'tracking:read', run.projectId);
    return run;
  }
}

/** Params from the CLI arrive as strings; take the type of the default. */
function coerce(value: ParamValue, like: ParamValue): ParamValue {
  if (typeof like === 'number' && typeof value === 'string') {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new AppError('VALIDATION_FAILED', `param value '${value}' must be a number`);
    return n;
  }
  if (typeof like === 'boolean' && typeof value === 'string') {
    if (value !== 'true' && value !== 'false')
      throw new AppError('VALIDATION_FAILED', `param value '${value}' must be true or false`);
    return value === 'true';
  }
  return value;
}
