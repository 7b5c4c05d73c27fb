import { randomUUID } from 'node:crypto';
import { authorize, type Principal } from '../../auth/index.ts';
import { AppError, type CancelSignal, type Clock, CountedErrors, type Logger } from '../../core/index.ts';
import { type Batcher, batchObserver, createBatcher, type SubmitOptions } from '../batching/index.ts';
import type { InferenceLog, JsonObject, JsonValue } from '../inference-log/index.ts';
import type { ModelCache } from '../runtime/model-cache.ts';
import type { FeatureFetcher, FetchedFeatures, ServedStatus } from './feature-fetcher.ts';
import { assembleInputs, type FieldProblem, feedsFor, type InputRow, invalidFields, rowsOf } from './model-inputs.ts';
import { type PredictMetrics, UNRESOLVED_DEPLOYMENT } from './predict-metrics.ts';
import { PredictionCache } from './prediction-cache.ts';
import type { Route, RouteTable } from './route-table.ts';
import { TokenBuckets } from './token-buckets.ts';

export interface PredictRequest {
  /** Entity keys and request fields; `event_timestamp` defaults to now. */
  records: Record<string, unknown>[];
  /** Shorter than the deployment's timeout, never longer. */
  timeoutMs?: number;
  priority?: number;
  /** Aborted when the client disconnects: queued work is dropped. */
  signal?: CancelSignal;
}

export interface PredictResponse {
  request_id: string;
  model: { name: string; version: number };
  predictions: unknown[];
  probabilities?: unknown[];
  feature_status: Record<string, ServedStatus>[];
  degraded: boolean;
}

export interface PredictDeps {
  routes: RouteTable;
  fetcher: FeatureFetcher;
  models: ModelCache;
  log: InferenceLog | null;
  metrics: PredictMetrics;
  clock: Clock;
  logger: Logger;
  random?: () => number;
}

type Outputs = Record<string, unknown>;

type Stage = 'features' | 'queue' | 'inference' | 'log' | 'total';
type DegradedReason = NonNullable<FetchedFeatures['degraded']>;

interface Labels {
  base: { deployment: string; model_version: string };
  ok: { deployment: string; model_version: string; code: string };
  stages: Record<Stage, { deployment: string; model_version: string; stage: string }>;
  degraded: Record<DegradedReason, { deployment: string; model_version: string; reason: string }>;
}

const canonical = (row: InputRow) =>
  JSON.stringify(
    Object.keys(row)
      .sort()
      .map((k) => [k, row[k]]),
  );

/**
 * The feature-aware predict path (DESIGN §4): route → online features (breaker, fallback) →
 * request-time transforms → validation against the model signature and the data contract →
 * adaptive batcher → ONNX Runtime → inference log (durable before the answer) → response.
 */
export class PredictService {
  private readonly batchers = new Map<string, Batcher<InputRow, Outputs>>();
  private readonly caches = new Map<string, PredictionCache>();
  private readonly limits = new TokenBuckets();
  private readonly labels = new Map<string, Labels>();
  /** Errors `predict` has counted, so the route's error hook does not count them again. */
  private readonly counted = new CountedErrors();
  private readonly random: () => number;

  constructor(private readonly deps: PredictDeps) {
    this.random = deps.random ?? Math.random;
  }

  async predict(actor: Principal, projectId: string, deployment: string, req: PredictRequest): Promise<PredictResponse> {
    const started = this.deps.clock.now();
    const t0 = performance.now();
    // Every outcome is counted, the refusals before the route is known included (forbidden, unknown deployment).
    let labels: Labels | null = null;
    try {
      authorize(actor, 'serving:predict', projectId);
      const route = await this.deps.routes.get(projectId, deployment);
      labels = this.labelsFor(deployment, route.model.version);
      const limit = route.deployment.spec.options.rateLimit;
      if (limit) {
        const wait = this.limits.take(`${route.deployment.id}\u0000${actor.id}`, limit.perSecond, limit.burst, started);
        if (wait > 0) {
          const message = `more than ${limit.perSecond} requests/s for this key on deployment '${deployment}'`;
          throw new AppError('RATE_LIMITED', message, { retryAfterMs: wait });
        }
      }
      const res = await this.run(route, req, started, t0, labels);
      this.deps.metrics.requests.inc(labels.ok);
      return res;
    } catch (e) {
      this.deps.metrics.requests.inc({ ...(labels?.base ?? this.unresolvedLabels(deployment)), code: this.counted.count(e) });
      throw e;
    }
  }

  /** Whether `predict` threw (and so counted) this error. */
  hasCounted(error: unknown): boolean {
    return this.counted.has(error);
  }

  /**
   * Counts a predict request refused before `predict` ran (an invalid body, malformed JSON, a
   * failed authentication), with the code its answer carries.
   */
  countRefused(deployment: string, code: string): void {
    this.deps.metrics.requests.inc({ ...this.unresolvedLabels(deployment), code });
  }

  /**
   * Labels of a request whose route was not resolved: no model version, and the deployment's name
   * only if the gateway serves a deployment of that name, so names made up by clients (every
   * 404, say) all go to one series instead of adding one each.
   */
  private unresolvedLabels(deployment: string): { deployment: string; model_version: string } {
    const known = this.deps.routes.list().some((r) => r.deployment.name === deployment);
    return { deployment: known ? deployment : UNRESOLVED_DEPLOYMENT, model_version: '' };
  }

  /** The label sets of a deployment's series, made once rather than spread on every request. */
  private labelsFor(deployment: string, version: number): Labels {
    const key = `${deployment}\u0000${version}`;
    let labels = this.labels.get(key);
    if (!labels) {
      const base = { deployment, model_version: String(version) };
      const stage = (name: string) => ({ ...base, stage: name });
      labels = {
        base,
        ok: { ...base, code: 'ok' },
        stages: {
          features: stage('features'),
          queue: stage('queue'),
          inference: stage('inference'),
          log: stage('log'),
          total: stage('total'),
        },
        degraded: { store_unavailable: { ...base, reason: 'store_unavailable' } },
      };
      if (this.labels.size > 10_000) this.labels.clear();
      this.labels.set(key, labels);
    }
    return labels;
  }

  private async run(route: Route, req: PredictRequest, started: number, t0: number, labels: Labels) {
    const opts = route.deployment.spec.options;
    if (req.records.length === 0) throw new AppError('VALIDATION_FAILED', 'records must hold at least one record');
    const deadline = started + Math.min(req.timeoutMs ?? opts.timeoutMs, opts.timeoutMs);
    // No named closures on this path: under tsx each one made per request costs a __name() call.
    let at: string | undefined;
    const records = req.records.map((r) => {
      if (r.event_timestamp !== undefined) return r;
      at ??= new Date(started).toISOString();
      return { ...r, event_timestamp: at };
    });

    const tf = performance.now();
    const fetched = route.features
      ? await this.deps.fetcher.read(route.features.plan, records, opts.featureDefaults)
      : { values: records.map(() => ({})), statuses: records.map(() => ({})), degraded: null, keyProblems: [] };
    this.observe(labels, 'features', tf);
    if (fetched.degraded) this.deps.metrics.degraded.inc(labels.degraded[fetched.degraded]);

    const { rows, problems } = assembleInputs(route.model.signature.inputs, records, fetched.values);
    if (route.contract) {
      records.forEach((r, i) => {
        const { errors } = (route.contract as NonNullable<Route['contract']>).validate({ ...r, ...fetched.values[i] });
        for (const e of errors) problems.push({ record: i, field: e.field, message: e.message.replace(`${e.field} `, '') });
      });
    }
    if (fetched.keyProblems.length > 0) throw invalidFields(withKeyProblems(route, fetched.keyProblems, problems));
    if (problems.length > 0) throw invalidFields(problems);

    const tq = performance.now();
    // The batcher marks when the rows' first batch starts: before it is the queue, after it the model run.
    const timing = { startedAt: 0 };
    const outputs = await this.infer(route, rows, {
      deadline,
      timing,
      ...(req.priority !== undefined ? { priority: req.priority } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    // No batch at all (every row from the prediction cache): nothing queued.
    const ti = timing.startedAt > 0 ? timing.startedAt : tq;
    this.deps.metrics.stage.observe(labels.stages.queue, (ti - tq) / 1000);
    this.observe(labels, 'inference', ti);

    const requestId = randomUUID();
    const response = shape(requestId, route, outputs, fetched.statuses, fetched.degraded !== null);
    const draw = this.random();
    const log = this.deps.log;
    if (log && draw < opts.logSampleRate) {
      const tl = performance.now();
      const latencyMs = performance.now() - t0;
      const appends = records.map((record, i) =>
        log.append({
          requestId: records.length === 1 ? requestId : `${requestId}.${i}`,
          time: started,
          deployment: route.deployment.name,
          model: { name: route.model.name, version: route.model.version, digest: route.model.digest },
          arm: null,
          inputs: record as JsonObject,
          features: {
            values: (fetched.values[i] ?? {}) as JsonObject,
            statuses: (fetched.statuses[i] ?? {}) as Record<string, string>,
          },
          outputs: (outputs[i] ?? {}) as JsonValue,
          latencyMs,
          randomDraw: draw,
          degraded: fetched.degraded !== null,
          extra: { project: route.projectId },
        }),
      );
      await Promise.all(appends);
      this.observe(labels, 'log', tl);
    }
    this.observe(labels, 'total', t0);
    return response;
  }

  private observe(labels: Labels, stage: Stage, since: number): void {
    this.deps.metrics.stage.observe(labels.stages[stage], (performance.now() - since) / 1000);
  }

  /** Rows through the prediction cache (when enabled) and the model's batcher. */
  private async infer(route: Route, rows: InputRow[], submit: SubmitOptions) {
    if (!route.deployment.spec.options.cache.enabled) return this.batcherFor(route).submit(rows, submit);
    const cache = this.cacheFor(route);
    const now = this.deps.clock.now();
    const keys = rows.map((r) => `${route.model.digest}\u0000${canonical(r)}`);
    const results = keys.map((k) => cache.get(k, now));
    const missing = rows.filter((_, i) => results[i] === undefined);
    if (missing.length > 0) {
      const computed = await this.batcherFor(route).submit(missing, submit);
      let next = 0;
      results.forEach((r, i) => {
        if (r !== undefined) return;
        const value = computed[next++] as Outputs;
        results[i] = value;
        cache.set(keys[i] as string, value, now);
      });
    }
    return results as Outputs[];
  }

  private cacheFor(route: Route): PredictionCache {
    const key = `${route.projectId}\u0000${route.deployment.name}`;
    let cache = this.caches.get(key);
    if (!cache) {
      const { maxEntries, ttlMs } = route.deployment.spec.options.cache;
      cache = new PredictionCache(maxEntries, ttlMs);
      this.caches.set(key, cache);
    }
    return cache;
  }

  /**
   * One batcher per model file and batching options: requests of every deployment serving the
   * same file with the same options share its batches; changed options get a batcher of their own.
   */
  private batcherFor(route: Route): Batcher<InputRow, Outputs> {
    const { digest, signature } = route.model;
    const b = route.deployment.spec.options.batching;
    const key = `${digest}\u0000${b.maxBatchRows}/${b.maxQueueDelayMs}/${b.maxQueueRows}`;
    let batcher = this.batchers.get(key);
    if (!batcher) {
      const ref = { digest, size: route.model.size, signature };
      const model = `${route.model.name}@${route.model.version}`;
      batcher = createBatcher<InputRow, Outputs>({
        name: model,
        maxBatchItems: b.maxBatchRows,
        maxDelayMs: b.maxQueueDelayMs,
        maxQueueItems: b.maxQueueRows,
        runBatch: async (items) => rowsOf(await this.deps.models.run(ref, feedsFor(signature.inputs, items)), items.length),
        // A batch serves every deployment of this model file: its timings are per model, not per deployment.
        onBatch: batchObserver(this.deps.metrics.batchRows, this.deps.metrics.batchSeconds, model),
      });
      this.batchers.set(key, batcher);
      const created = batcher;
      this.deps.metrics.watchQueue(model, () => created.stats().queuedItems);
    }
    return batcher;
  }

  /** Drains queued work (graceful shutdown). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.batchers.values()].map((b) => b.close()));
  }
}

/**
 * One list of a request's problems: the unusable join keys, then, per record, the rest. A record
 * whose key was unusable was not read, so problems about its features (missing, or failing the
 * contract for want of them) and repeats of its key problem are dropped: they would be noise.
 */
function withKeyProblems(route: Route, keyProblems: readonly FieldProblem[], problems: FieldProblem[]): FieldProblem[] {
  const unread = new Map<number, Set<string>>();
  for (const p of keyProblems) {
    let fields = unread.get(p.record);
    if (!fields) {
      fields = new Set(route.features?.plan.outputs);
      unread.set(p.record, fields);
    }
    fields.add(p.field);
  }
  const rest = problems.filter((p) => !unread.get(p.record)?.has(p.field));
  // Stable: within a record, its key problems come first.
  return [...keyProblems, ...rest].sort((a, b) => a.record - b.record);
}

function shape(
  requestId: string,
  route: Route,
  outputs: Outputs[],
  statuses: Record<string, ServedStatus>[],
  degraded: boolean,
): PredictResponse {
  const names = route.model.signature.outputs.map((o) => o.name);
  const hasProbability = names.includes('probability');
  const predictionName = names.includes('label')
    ? 'label'
    : names.includes('prediction')
      ? 'prediction'
      : names.find((n) => n !== 'probability');
  return {
    request_id: requestId,
    model: { name: route.model.name, version: route.model.version },
    predictions: outputs.map((o) => (predictionName ? o[predictionName] : null) ?? null),
    ...(hasProbability ? { probabilities: outputs.map((o) => o.probability ?? null) } : {}),
    feature_status: statuses,
    degraded,
  };
}
