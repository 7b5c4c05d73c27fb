import * as ort from 'onnxruntime-node';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { systemPrincipal } from '../../auth/index.ts';
import { AppError, silentLogger, systemClock } from '../../core/index.ts';
import type { FeatureStoreService, ReadPlan } from '../../features/index.ts';
import type { ModelCache } from '../runtime/model-cache.ts';
import { FeatureFetcher } from './feature-fetcher.ts';
import { createPredictMetrics } from './predict-metrics.ts';
import { PredictService } from './predict-service.ts';
import type { Route, RouteTable } from './route-table.ts';

/** One stored feature, `trips__delay`, keyed by `origin`. */
const plan = {
  service: 'svc',
  joinKeys: ['origin'],
  views: [{ view: { name: 'trips', joinKeys: [{ name: 'origin', type: 'string' }] }, features: ['delay'], columns: [0] }],
  outputs: ['trips__delay'],
  transforms: [],
} as unknown as ReadPlan;

/** Deployment `lin` serving version 3 of a model taking `x` (two numbers), and `trips__delay` when `withFeatures`. */
function routeOf(withFeatures: boolean): Route {
  const inputs = [{ name: 'x', dtype: 'float32', shape: [-1, 2] }];
  if (withFeatures) inputs.push({ name: 'trips__delay', dtype: 'float32', shape: [-1, 1] });
  return {
    projectId: 'p1',
    deployment: {
      id: 'dep1',
      name: 'lin',
      spec: {
        model: 'lin',
        ref: { alias: 'champion' },
        options: {
          timeoutMs: 5000,
          logSampleRate: 1,
          cache: { enabled: false, ttlMs: 0, maxEntries: 0 },
          featureDefaults: { trips__delay: -1 },
          batching: { maxBatchRows: 256, maxQueueDelayMs: 2, maxQueueRows: 4096 },
          rateLimit: null,
        },
      },
    },
    model: {
      name: 'lin',
      version: 3,
      digest: 'sha256:lin',
      size: 1,
      signature: { inputs, outputs: [{ name: 'probability', dtype: 'float32', shape: [-1] }] },
    },
    features: withFeatures ? { ref: 'svc@1', plan } : null,
    contract: null,
    resolvedAt: 0,
  } as unknown as Route;
}

interface Kit {
  service: PredictService;
  registry: Registry;
  /** Model calls so far. */
  calls: () => number;
  /** Entities the store was asked for, per read. */
  reads: string[][];
}

/**
 * A PredictService over one route, a model answering 0.5 per row (`hold`: its first call waits
 * for the promise) and a store that answers `trips__delay` = 7, or fails while `storeUp()` is false.
 */
function kit(opts: { withFeatures?: boolean; hold?: Promise<void>; storeUp?: () => boolean } = {}): Kit {
  const route = routeOf(opts.withFeatures ?? false);
  const routes = {
    get: async (_project: string, name: string) => {
      if (name !== 'lin') throw new AppError('NOT_FOUND', `deployment '${name}' does not exist`);
      return route;
    },
    list: () => [route],
  } as unknown as RouteTable;
  const reads: string[][] = [];
  const store = {
    readPlanned: async (_plan: ReadPlan, entities: { origin: string }[]) => {
      if (opts.storeUp && !opts.storeUp()) throw new Error('store down');
      reads.push(entities.map((e) => e.origin));
      return {
        features: ['trips__delay'],
        rows: entities.map(() => ({ values: [7], statuses: ['PRESENT'], eventTimes: [1] })),
      };
    },
  } as unknown as FeatureStoreService;
  let calls = 0;
  const models = {
    run: async (_ref: unknown, feeds: Record<string, ort.Tensor>) => {
      calls++;
      if (calls === 1 && opts.hold) await opts.hold;
      const rows = (feeds.x as ort.Tensor).dims[0] as number;
      return { probability: new ort.Tensor('float32', new Float32Array(rows).fill(0.5), [rows]) };
    },
  } as unknown as ModelCache;
  const registry = new Registry();
  const service = new PredictService({
    routes,
    fetcher: new FeatureFetcher(store, { timeoutMs: 1000, failureThreshold: 5, halfOpenAfterMs: 60_000, lastKnownEntries: 10 }),
    models,
    log: null,
    metrics: createPredictMetrics(registry),
    clock: systemClock,
    logger: silentLogger,
  });
  return { service, registry, calls: () => calls, reads };
}

const predict = (service: PredictService, deployment: string, records: Record<string, unknown>[]) =>
  service.predict(systemPrincipal, 'p1', deployment, { records });

/** The value of one series in the registry's exposition, or undefined when it is absent. */
async function series(registry: Registry, line: RegExp): Promise<number | undefined> {
  const text = await registry.metrics();
  const found = text.split('\n').find((l) => line.test(l));
  return found === undefined ? undefined : Number(found.slice(found.lastIndexOf(' ') + 1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PredictService metrics', () => {
  it('counts requests for an unknown deployment under one fixed deployment label, with no model version', async () => {
    const { service, registry } = kit();
    for (const name of ['nope', 'random-1', 'random-2']) {
      await expect(predict(service, name, [{ x: [1, 2] }])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    await predict(service, 'lin', [{ x: [1, 2] }]);
    const text = await registry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('keel_predict_requests_total{'));
    expect(lines).toEqual([
      'keel_predict_requests_total{deployment="(unresolved)",model_version="",code="NOT_FOUND"} 3',
      'keel_predict_requests_total{deployment="lin",model_version="3",code="ok"} 1',
    ]);
    // The route's hook counts what predict never saw, and skips what it counted.
    service.countRefused('lin', 'VALIDATION_FAILED');
    service.countRefused('who', 'MALFORMED_JSON');
    const counted = await predict(service, 'gone', [{ x: [1, 2] }]).catch((e: unknown) => e);
    expect(service.hasCounted(counted)).toBe(true);
    expect(service.hasCounted(new Error('refused by the schema'))).toBe(false);
    expect(
      await series(registry, /^keel_predict_requests_total\{deployment="lin",model_version="",code="VALIDATION_FAILED"\}/),
    ).toBe(1);
    expect(
      await series(
        registry,
        /^keel_predict_requests_total\{deployment="\(unresolved\)",model_version="",code="MALFORMED_JSON"\}/,
      ),
    ).toBe(1);
    expect(
      await series(registry, /^keel_predict_requests_total\{deployment="\(unresolved\)",model_version="",code="NOT_FOUND"\}/),
    ).toBe(4);
  });

  it('splits waiting for a batch (queue) from the model run (inference), and shows queued rows while a batch runs', async () => {
    let release = () => {};
    const hold = new Promise<void>((r) => {
      release = r;
    });
    const { service, registry, calls } = kit({ hold });
    const first = predict(service, 'lin', [{ x: [1, 2] }]);
    for (let i = 0; i < 200 && calls() === 0; i++) await sleep(5);
    expect(calls()).toBe(1);
    // The model is busy with the first request: the second (two rows) waits in the queue.
    const second = predict(service, 'lin', [{ x: [1, 2] }, { x: [3, 4] }]);
    const queued = /^keel_predict_queue_rows\{model="lin@3"\}/;
    for (let i = 0; i < 200 && (await series(registry, queued)) !== 2; i++) await sleep(5);
    expect(await series(registry, queued)).toBe(2);
    await sleep(80);
    release();
    await Promise.all([first, second]);
    expect(await series(registry, queued)).toBe(0);

    const stage = (name: string, suffix: string) =>
      series(
        registry,
        new RegExp(`^keel_predict_stage_seconds_${suffix}\\{deployment="lin",model_version="3",stage="${name}"\\}`),
      );
    expect(await stage('queue', 'count')).toBe(2);
    expect(await stage('inference', 'count')).toBe(2);
    // The first request's model run took ≥ 80 ms and it hardly queued; the second queued ≥ 80 ms and its run was quick.
    const under50ms = (name: string) =>
      series(
        registry,
        new RegExp(`^keel_predict_stage_seconds_bucket\\{le="0.05",deployment="lin",model_version="3",stage="${name}"\\}`),
      );
    expect(await under50ms('queue')).toBe(1);
    expect(await under50ms('inference')).toBe(1);
    expect(await stage('queue', 'sum')).toBeGreaterThanOrEqual(0.075);
  });

  it('counts degraded responses per deployment and model version', async () => {
    const { service, registry } = kit({ withFeatures: true, storeUp: () => false });
    const res = await predict(service, 'lin', [{ origin: 'ATL', x: [1, 2] }]);
    expect(res).toMatchObject({ degraded: true, feature_status: [{ trips__delay: 'DEFAULT' }] });
    expect(
      await series(registry, /^keel_predict_degraded_total\{deployment="lin",model_version="3",reason="store_unavailable"\}/),
    ).toBe(1);
  });
});

describe('PredictService validation', () => {
  it('lists every bad field of every record in one 400, join keys included, and reads only usable keys', async () => {
    const { service, reads, calls } = kit({ withFeatures: true });
    const error = await predict(service, 'lin', [{ origin: 42, x: ['a', 2] }, { origin: 'ATL', x: [1] }, { x: [1, 2] }]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    const problems = ((error as AppError).details as { problems: { record: number; field: string }[] }).problems;
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    // No "trips__delay is missing" for the records that were never read.
    expect(problems.map((p) => `${p.record}.${p.field}`)).toEqual(['0.origin', '0.x', '1.x', '2.origin']);
    expect(reads).toEqual([['ATL']]);
    expect(calls()).toBe(0);
  });
});
