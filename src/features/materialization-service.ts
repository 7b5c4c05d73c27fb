import { authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, newId } from '../core/index.ts';
import { entityKey } from '../storage/index.ts';
import type { CompiledView } from './feature-catalog.ts';
import { type FeatureStoreService, viewKey } from './feature-store-service.ts';
import { materializeView } from './offline/materialize.ts';

export interface MaterializeJob {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  start: number | null;
  end: number;
  incremental: boolean;
  views: { view: string; written: number; total: number; done: boolean }[];
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

export interface MaterializeRequest {
  /** Up to this time (default now). */
  end?: number;
  /** From this time; ignored with `incremental`, which starts at each view's watermark. */
  start?: number;
  incremental?: boolean;
  views?: string[];
}

/**
 * Runs materialization jobs in the server. A job can die with the process at any point: writes
 * are conditional on event time and watermarks move only after a view is fully written, so the
 * next run converges to the state a clean run leaves.
 */
export class MaterializationService {
  private readonly jobs = new Map<string, MaterializeJob>();

  constructor(
    private readonly features: FeatureStoreService,
    private readonly clock: Clock,
  ) {}

  async start(
    actor: Principal,
    projectId: string,
    req: MaterializeRequest,
  ): Promise<{ job: MaterializeJob; done: Promise<MaterializeJob> }> {
    authorize(actor, 'features:materialize', projectId);
    const { catalog } = await this.features.load(projectId);
    const names = req.views ?? [...catalog.views.keys()];
    const views = names.map((n) => {
      const v = catalog.views.get(n);
      if (!v) throw new AppError('NOT_FOUND', `feature view '${n}' does not exist`);
      return v;
    });
    const end = req.end ?? this.clock.now();
    if (req.start !== undefined && req.start >= end) throw new AppError('VALIDATION_FAILED', 'start must be before end');
    const job: MaterializeJob = {
      id: newId('job'),
      status: 'running',
      start: req.incremental ? null : (req.start ?? null),
      end,
      incremental: req.incremental ?? false,
      views: views.map((v) => ({ view: v.name, written: 0, total: 0, done: false })),
      error: null,
      startedAt: this.clock.now(),
      finishedAt: null,
    };
    this.jobs.set(job.id, job);
    const done = this.run(actor, projectId, job, views);
    return { job, done };
  }

  get(id: string): MaterializeJob {
    const job = this.jobs.get(id);
    if (!job) throw new AppError('NOT_FOUND', `materialization job '${id}' does not exist`);
    return job;
  }

  private async run(actor: Principal, projectId: string, job: MaterializeJob, views: CompiledView[]): Promise<MaterializeJob> {
    const registry = this.features.transactor;
    try {
      for (const [i, view] of views.entries()) {
        const state = await registry.stores.featureRegistry.getState(projectId, view.name);
        const start = job.incremental ? (state?.watermark ?? null) : job.start;
        const progress = job.views[i] as MaterializeJob['views'][number];
        const scoped = { ...view, name: viewKey(projectId, view.name) };
        const written = await materializeView(
          this.features.analytics,
          this.features.online,
          scoped,
          { start, end: job.end },
          (p) => Object.assign(progress, { written: p.written, total: p.total }),
          this.features.resolverFor(projectId),
        );
        await registry.transaction(async (s) => {
          const now = this.clock.now();
          const watermark = Math.max(job.end, state?.watermark ?? Number.NEGATIVE_INFINITY);
          await s.featureRegistry.putState(projectId, { view: view.name, watermark, materializedAt: now, rowsWritten: written });
          await recordAudit(s.audit, this.clock, actor, {
            action: 'features.materialize',
            resourceType: 'feature_view',
            resourceId: view.name,
            projectId,
            before: { watermark: state?.watermark ?? null },
            after: { watermark, start, end: job.end, rows: written },
          });
        });
        progress.done = true;
      }
      job.status = 'succeeded';
    } catch (e) {
      job.status = 'failed';
      job.error = e instanceof AppError ? e.message : 'materialization failed; see the server log';
    }
    job.finishedAt = this.clock.now();
    return job;
  }

  /** Streaming writes: rows for one view with join keys, `event_timestamp` and feature values. */
  async push(
    actor: Principal,
    projectId: string,
    req: { view: string; rows: Record<string, unknown>[] },
  ): Promise<{ written: number }> {
    authorize(actor, 'features:write', projectId);
    const { catalog } = await this.features.load(projectId);
    const view = catalog.views.get(req.view);
    if (!view) throw new AppError('NOT_FOUND', `feature view '${req.view}' does not exist`);
    if (view.kind !== 'plain')
      throw new AppError(
        'VALIDATION_FAILED',
        `feature view '${req.view}' is computed by aggregation; push to its source instead`,
      );
    const features = view.features.map((f) => f.name);
    const entityKeys: string[] = [];
    const eventTimes: number[] = [];
    const columns = features.map(() => [] as (number | string | boolean | null)[]);
    req.rows.forEach((row, i) => {
      const keys = view.joinKeys.map((k) => {
        const v = row[k.name];
        const ok = k.type === 'string' ? typeof v === 'string' : typeof v === 'number' || typeof v === 'boolean';
        if (!ok) throw new AppError('VALIDATION_FAILED', `row ${i}: join key '${k.name}' must be a ${k.type}`);
        return v as string | number | boolean;
      });
      const ts = typeof row.event_timestamp === 'number' ? row.event_timestamp : Date.parse(String(row.event_timestamp));
      if (!Number.isFinite(ts))
        throw new AppError('VALIDATION_FAILED', `row ${i}: event_timestamp must be epoch ms or an ISO time`);
      entityKeys.push(entityKey(keys));
      eventTimes.push(ts);
      view.features.forEach((f, c) => {
        const v = row[f.name] ?? null;
        const ok =
          v === null ||
          (f.type === 'string'
            ? typeof v === 'string'
            : f.type === 'bool'
              ? typeof v === 'boolean'
              : typeof v === 'number' && Number.isFinite(v));
        if (!ok) throw new AppError('VALIDATION_FAILED', `row ${i}: feature '${f.name}' must be a ${f.type}`);
        (columns[c] as unknown[]).push(v);
      });
    });
    await this.features.online.write({ view: viewKey(projectId, view.name), features, entityKeys, eventTimes, columns });
    return { written: req.rows.length };
  }

  /** Freshness per view: how old the materialized data is against its max_staleness objective. */
  async status(actor: Principal, projectId: string) {
    authorize(actor, 'features:read', projectId);
    const { catalog } = await this.features.load(projectId);
    const states = new Map((await this.features.states(projectId)).map((s) => [s.view, s]));
    const now = this.clock.now();
    return [...catalog.views.values()].map((v) => {
      const s = states.get(v.name);
      const stalenessMs = s?.watermark === null || s?.watermark === undefined ? null : now - s.watermark;
      return {
        view: v.name,
        watermark: s?.watermark ?? null,
        materializedAt: s?.materializedAt ?? null,
        rowsWritten: s?.rowsWritten ?? 0,
        maxStalenessMs: v.maxStalenessMs,
        stalenessMs,
        stale: v.maxStalenessMs !== null && (stalenessMs === null || stalenessMs > v.maxStalenessMs),
      };
    });
  }
}
