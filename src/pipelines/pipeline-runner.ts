import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { Principal } from '../auth/index.ts';
import { AppError, type Clock, type Logger } from '../core/index.ts';
import type { BlobStore } from '../storage/index.ts';
import { cacheKey, canonicalJson, explainMiss, sha256 } from './cache-key.ts';
import { dependenciesOf, resolveParams, type StepSpec } from './pipeline-spec.ts';
import type { PipelineStore } from './pipeline-stores.ts';
import type { CacheKeyParts, PipelineDefinition, PipelineRun, StepOutputs, StepRun } from './pipeline-types.ts';
import type { RunLineage, StepContext, StepInput, StepKind } from './step-kind.ts';
import { StepError } from './step-kind.ts';
import type { StepTracking } from './step-tracking.ts';

export interface RunnerDeps {
  store: () => PipelineStore;
  blobs: BlobStore;
  tracking: StepTracking;
  kinds: ReadonlyMap<string, StepKind>;
  clock: Clock;
  logger: Logger;
  /** Steps work in `<workRoot>/<run>/<step>`. */
  workRoot: string;
  /** Steps executing at once across all runs (a step waiting for a slot stays `running`). */
  maxConcurrentSteps?: number;
}

const done = new Set<StepRun['status']>(['succeeded', 'cached']);

/** Errors from bad input or refused checks fail at once; the rest (crashes, timeouts, exit codes) are retried. */
function retryable(e: unknown): boolean {
  if (e instanceof StepError) return e.retryable;
  if (e instanceof AppError) return e.status >= 500;
  return true;
}

/**
 * Executes pipeline runs: steps in dependency order up to the pipeline's concurrency, each
 * skipped when its cache key was seen before, retried with backoff and jitter when it fails in
 * a way retrying can fix. State is written after every step, so `resume` continues a run that
 * failed, was cancelled or died with its process, without redoing finished steps.
 */
export class PipelineRunner {
  private readonly active = new Map<string, AbortController>();
  private readonly slots: Slots;

  constructor(private readonly deps: RunnerDeps) {
    this.slots = new Slots(deps.maxConcurrentSteps ?? 2);
  }

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  cancel(runId: string): boolean {
    const c = this.active.get(runId);
    c?.abort(new StepError('cancelled'));
    return c !== undefined;
  }

  async execute(run: PipelineRun, def: PipelineDefinition, actor: Principal): Promise<PipelineRun> {
    const store = this.deps.store();
    const controller = new AbortController();
    this.active.set(run.id, controller);
    try {
      await store.updateRun(run.id, { status: 'running', error: null, finishedAt: null });
      await this.deps.tracking.runStarted(actor, run);
      const failure = await this.schedule(run, def, actor, controller.signal);
      const status = controller.signal.aborted ? 'cancelled' : failure ? 'failed' : 'succeeded';
      const finishedAt = this.deps.clock.now();
      await store.updateRun(run.id, { status, error: failure, finishedAt });
      await this.deps.tracking.runEnded(actor, run, status);
      return { ...run, status, error: failure, finishedAt };
    } finally {
      this.active.delete(run.id);
    }
  }

  /** Returns the first failure, or null when every step finished. */
  private async schedule(run: PipelineRun, def: PipelineDefinition, actor: Principal, signal: AbortSignal) {
    const store = this.deps.store();
    const states = new Map((await store.getSteps(run.id)).map((s) => [s.step, s]));
    const running = new Map<string, Promise<void>>();
    let failure: string | null = null;
    const lineage = this.lineageOf(def, [...states.values()]);
    for (;;) {
      if (!failure && !signal.aborted) {
        for (const spec of def.spec.steps) {
          if (running.size >= def.spec.concurrency) break;
          const state = states.get(spec.name);
          if (!state || done.has(state.status) || running.has(spec.name)) continue;
          if (!dependenciesOf(spec).every((d) => done.has(states.get(d)?.status ?? 'pending'))) continue;
          const p = this.runStep(run, def, spec, states, lineage, actor, signal)
            .then((next) => {
              states.set(spec.name, next);
              if (next.status === 'failed' && !failure) failure = `step '${spec.name}' failed: ${next.error}`;
            })
            .finally(() => running.delete(spec.name));
          running.set(spec.name, p);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    if (signal.aborted && !failure) failure = 'cancelled';
    const endStatus = signal.aborted ? 'cancelled' : 'skipped';
    for (const [name, s] of states) {
      if (!done.has(s.status) && s.status !== 'failed') await store.updateStep(run.id, name, { status: endStatus });
    }
    return failure;
  }

  private lineageOf(def: PipelineDefinition, steps: StepRun[]): RunLineage {
    const l: RunLineage = { datasetDigests: [], datasetVersions: [], featureService: null, codeVersion: null };
    for (const s of steps) if (done.has(s.status)) mergeLineage(l, s.outputs?.values.lineage as Partial<RunLineage> | undefined);
    l.codeVersion ??= `pipeline:${def.name}@${def.version}`;
    return l;
  }

  private async runStep(
    run: PipelineRun,
    def: PipelineDefinition,
    spec: StepSpec,
    states: Map<string, StepRun>,
    lineage: RunLineage,
    actor: Principal,
    signal: AbortSignal,
  ): Promise<StepRun> {
    const store = this.deps.store();
    const kind = this.deps.kinds.get(spec.kind) as StepKind;
    let prior = states.get(spec.name) as StepRun;
    const startedAt = this.deps.clock.now();
    let attempts = prior.attempts;
    const finish = async (patch: Partial<StepRun>): Promise<StepRun> => {
      const next = { ...prior, attempts, ...patch, finishedAt: this.deps.clock.now() };
      await store.updateStep(run.id, spec.name, next);
      return next;
    };
    let ctx: StepContext | null = null;
    try {
      const inputs = await this.resolveInputs(spec, states);
      const params = resolveParams(spec.params, run.params) as Record<string, unknown>;
      kind.checkParams?.(params, spec);
      const childRun = await this.deps.tracking.stepStarted(actor, run, spec);
      ctx = this.context(run, def, spec, params, inputs, lineage, actor, signal, childRun);
      const parts: CacheKeyParts = {
        code: `${kind.kind}@${kind.version}`,
        params: { ...params, ...(kind.fingerprint ? { __fingerprint: await kind.fingerprint(ctx) } : {}) },
        inputs: Object.fromEntries(
          Object.entries(inputs).map(([k, v]) => [k, v.kind === 'file' ? v.digest : `value:${sha256(canonicalJson(v.value))}`]),
        ),
      };
      const key = cacheKey(kind.kind, parts);
      prior = { ...prior, status: 'running', startedAt, cacheKey: key, trackingRunId: childRun, explain: null, error: null };
      await store.updateStep(run.id, spec.name, prior);
      const hit = await store.getCache(run.projectId, key);
      if (hit && (await this.artifactsExist(hit.outputs))) {
        mergeLineage(lineage, hit.outputs.values.lineage as Partial<RunLineage> | undefined);
        await this.deps.tracking.stepEnded(actor, childRun, 'cached', hit.outputs.values.metrics as Record<string, number>);
        await this.deps.tracking.recordInputs(actor, run, spec.name, hit.outputs.values);
        return finish({
          status: 'cached',
          outputs: hit.outputs,
          explain: `hit: same code, params and inputs as run ${hit.runId}`,
          error: null,
        });
      }
      const previous = await store.lastCacheFor(run.projectId, run.pipeline, spec.name);
      const explain = explainMiss(parts, previous?.parts ?? null);
      await store.updateStep(run.id, spec.name, { explain });
      const release = await this.slots.acquire(signal);
      let outputs: StepOutputs;
      try {
        outputs = await this.attempt(run, spec, kind, ctx, () => {
          attempts += 1;
          return store.updateStep(run.id, spec.name, { attempts });
        });
      } finally {
        release();
      }
      mergeLineage(lineage, outputs.values.lineage as Partial<RunLineage> | undefined);
      await store.putCache({
        projectId: run.projectId,
        key,
        pipeline: run.pipeline,
        step: spec.name,
        parts,
        outputs,
        runId: run.id,
        createdAt: this.deps.clock.now(),
      });
      await this.deps.tracking.stepEnded(actor, childRun, 'succeeded', outputs.values.metrics as Record<string, number>);
      await this.deps.tracking.recordInputs(actor, run, spec.name, outputs.values);
      return finish({ status: 'succeeded', outputs, explain, error: null });
    } catch (e) {
      const message = signal.aborted ? 'cancelled' : e instanceof Error ? e.message : String(e);
      if (!(e instanceof StepError) && !(e instanceof AppError))
        this.deps.logger.warn({ err: e, step: spec.name }, 'pipeline step failed');
      if (ctx?.stepTrackingRunId) await this.deps.tracking.stepEnded(actor, ctx.stepTrackingRunId, 'failed').catch(() => {});
      return finish({ status: signal.aborted ? 'cancelled' : 'failed', error: message.slice(0, 2000) });
    }
  }

  /** One execution with retries; each attempt gets a clean work directory and its own timeout. */
  private async attempt(run: PipelineRun, spec: StepSpec, kind: StepKind, ctx: StepContext, counted: () => Promise<void>) {
    const policy = retry(handleWhen(retryable), {
      maxAttempts: (spec.retry?.max_attempts ?? 1) - 1,
      backoff: new ExponentialBackoff({
        initialDelay: spec.retry?.initial_delay ?? 1000,
        maxDelay: spec.retry?.max_delay ?? 60_000,
      }),
    });
    policy.onRetry((r) => ctx.log(`retrying after ${'error' in r ? r.error.message : 'failure'} (in ${Math.round(r.delay)} ms)`));
    return policy.execute(async () => {
      await counted();
      const workDir = join(this.deps.workRoot, run.id, spec.name);
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir, { recursive: true });
      const timeout = spec.timeout ? AbortSignal.timeout(spec.timeout) : null;
      const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
      try {
        const result = await kind.execute({ ...ctx, workDir, signal, timeoutMs: spec.timeout ?? null });
        if (timeout?.aborted) throw new StepError(`timed out after ${spec.timeout} ms`, true);
        return await this.keep(result);
      } catch (e) {
        if (ctx.signal.aborted) throw new StepError('cancelled');
        if (timeout?.aborted) throw new StepError(`timed out after ${spec.timeout} ms`, true);
        throw e;
      } finally {
        if (!ctx.signal.aborted) await rm(workDir, { recursive: true, force: true });
      }
    }, ctx.signal);
  }

  /** Moves a step's files into the blob store; outputs refer to them by digest. */
  private async keep(result: Awaited<ReturnType<StepKind['execute']>>): Promise<StepOutputs> {
    const artifacts: StepOutputs['artifacts'] = {};
    for (const [name, f] of Object.entries(result.files ?? {})) {
      const info = await this.deps.blobs.put(createReadStream(f.path));
      artifacts[name] = { digest: info.digest, bytes: info.size, ...(f.meta ? { meta: f.meta } : {}) };
    }
    const values: Record<string, unknown> = { ...(result.values ?? {}) };
    if (result.metrics) values.metrics = result.metrics;
    if (result.lineage) values.lineage = result.lineage;
    return { artifacts, values };
  }

  private async artifactsExist(outputs: StepOutputs): Promise<boolean> {
    for (const a of Object.values(outputs.artifacts)) if (!(await this.deps.blobs.stat(a.digest))) return false;
    return true;
  }

  private async resolveInputs(spec: StepSpec, states: Map<string, StepRun>): Promise<Record<string, StepInput>> {
    const inputs: Record<string, StepInput> = {};
    for (const [name, ref] of Object.entries(spec.inputs)) {
      const dot = ref.indexOf('.');
      const [from, output] = [ref.slice(0, dot), ref.slice(dot + 1)];
      const outputs = states.get(from)?.outputs;
      const artifact = outputs?.artifacts[output];
      if (artifact) {
        const path = this.deps.blobs.pathOf?.(artifact.digest);
        if (!path || !(await stat(path).catch(() => null)))
          throw new StepError(`input '${name}' (${ref}) is missing from the blob store`);
        inputs[name] = { kind: 'file', path, digest: artifact.digest, meta: artifact.meta ?? {} };
      } else if (outputs && output in outputs.values) {
        inputs[name] = { kind: 'value', value: outputs.values[output] };
      } else {
        throw new StepError(`input '${name}': step '${from}' has no output '${output}'`);
      }
    }
    return inputs;
  }

  private context(
    run: PipelineRun,
    def: PipelineDefinition,
    spec: StepSpec,
    params: Record<string, unknown>,
    inputs: Record<string, StepInput>,
    lineage: RunLineage,
    actor: Principal,
    signal: AbortSignal,
    childRun: string | null,
  ): StepContext {
    const logger = this.deps.logger.child({ pipelineRun: run.id, step: spec.name });
    return {
      projectId: run.projectId,
      actor,
      pipeline: run.pipeline,
      runId: run.id,
      trackingRunId: run.trackingRunId,
      stepTrackingRunId: childRun,
      step: spec,
      params,
      inputs,
      workDir: this.deps.workRoot,
      baseDir: def.baseDir ?? process.cwd(),
      signal,
      timeoutMs: spec.timeout ?? null,
      lineage,
      log: (line) => logger.info(line),
      logMetrics: (metrics, step) => this.deps.tracking.logMetrics(actor, childRun, metrics, step),
      progress: (text) => logger.debug({ progress: text }),
      attachLog: (path) =>
        this.deps.tracking.attachLog(actor, childRun, `logs/${spec.name}.log`, createReadStream(path)).catch((e) => {
          logger.warn({ err: e }, 'could not keep the step log');
        }),
    };
  }
}

function mergeLineage(into: RunLineage, add: Partial<RunLineage> | undefined): void {
  if (!add) return;
  for (const d of add.datasetDigests ?? []) if (!into.datasetDigests.includes(d)) into.datasetDigests.push(d);
  for (const d of add.datasetVersions ?? []) if (!into.datasetVersions.includes(d)) into.datasetVersions.push(d);
  if (add.featureService) into.featureService = add.featureService;
  if (add.codeVersion) into.codeVersion = add.codeVersion;
}

/** A counting semaphore: the server-wide limit on steps executing at once. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(signal: AbortSignal): Promise<() => void> {
    if (this.free > 0) {
      this.free -= 1;
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(grant);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new StepError('cancelled'));
        };
        if (signal.aborted) return onAbort();
        this.waiting.push(grant);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}
