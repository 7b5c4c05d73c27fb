import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AppError, ManualClock, silentLogger } from '../../core/index.ts';
import { buildLinearModel, buildOnnxModel } from '../../registry/index.ts';
import { ModelCache, type ModelCacheOptions, type ModelRef } from './model-cache.ts';
import { type ModelSession, ortSessionFactory } from './ort-session.ts';

const signature = { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }], outputs: [] };
const ref = (name: string, size = 100): ModelRef => ({ digest: `sha256:${name}`, size, signature });

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
const deferred = (): Deferred => {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

/** Fake sessions: records creations, releases and runs; `hold(name)` keeps that model's runs open until resolved. */
function harness(over: Partial<ModelCacheOptions> & { failing?: Set<string>; loadGate?: Deferred } = {}) {
  const created: string[] = [];
  const released: string[] = [];
  const runs: string[] = [];
  const gates = new Map<string, Deferred>();
  const clock = new ManualClock(1000);
  const cache = new ModelCache({
    budgetBytes: 1000,
    memoryFactor: 2,
    warmup: true,
    failedRetryMs: 5000,
    readBytes: async (digest) => new TextEncoder().encode(digest),
    createSession: async (bytes): Promise<ModelSession> => {
      const name = new TextDecoder().decode(bytes);
      created.push(name);
      if (over.loadGate) await over.loadGate.promise;
      if (over.failing?.has(name)) throw new Error(`bad bytes in ${name}`);
      return {
        inputNames: ['x'],
        outputNames: ['y'],
        run: async () => {
          runs.push(name);
          await gates.get(name)?.promise;
          return {};
        },
        release: async () => {
          released.push(name);
        },
      };
    },
    clock,
    logger: silentLogger,
    ...over,
  });
  return {
    cache,
    clock,
    created,
    released,
    runs,
    hold: (name: string) => {
      const gate = deferred();
      gates.set(`sha256:${name}`, gate);
      return gate;
    },
  };
}

describe('ModelCache', () => {
  it('loads on demand, warms up before READY, and reuses the session by digest', async () => {
    const h = harness();
    expect(h.cache.status('sha256:a').state).toBe('UNLOADED');
    await h.cache.run(ref('a'), {});
    await h.cache.run(ref('a'), {});
    expect(h.created).toEqual(['sha256:a']);
    // One warm-up run, then the two real ones.
    expect(h.runs).toEqual(['sha256:a', 'sha256:a', 'sha256:a']);
    expect(h.cache.status('sha256:a')).toMatchObject({ state: 'READY', estimatedBytes: 200, inFlight: 0, lastUsedAt: 1000 });
  });

  it('makes concurrent requests for a loading model await the same load', async () => {
    const loadGate = deferred();
    const h = harness({ loadGate });
    const waiting = Promise.all([h.cache.run(ref('a'), {}), h.cache.run(ref('a'), {}), h.cache.load(ref('a'))]);
    await Promise.resolve();
    expect(h.cache.status('sha256:a').state).toBe('LOADING');
    loadGate.resolve();
    await waiting;
    expect(h.created).toEqual(['sha256:a']);
  });

  it('unloads idle models least recently used first to stay under the budget', async () => {
    const h = harness();
    // Each model is estimated at 2 × 200 = 400 bytes; the budget of 1000 holds two.
    for (const n of ['a', 'b']) await h.cache.run(ref(n, 200), {});
    h.clock.advance(10);
    await h.cache.run(ref('a', 200), {});
    await h.cache.run(ref('c', 200), {});
    expect(h.released).toEqual(['sha256:b']);
    expect(h.cache.list().map((s) => s.digest)).toEqual(['sha256:a', 'sha256:c']);
    expect(h.cache.usedBytes()).toBe(800);
  });

  it('keeps least-recently-used order when one model runs many times in a row', async () => {
    const h = harness();
    for (const n of ['a', 'a', 'b', 'b', 'a', 'a']) await h.cache.run(ref(n, 200), {});
    await h.cache.run(ref('c', 200), {});
    expect(h.released).toEqual(['sha256:b']);
    h.cache.unload('sha256:a');
    for (const n of ['c', 'b', 'c']) await h.cache.run(ref(n, 200), {});
    await h.cache.run(ref('d', 200), {});
    expect(h.released).toEqual(['sha256:b', 'sha256:a', 'sha256:b']);
  });

  it('never unloads a model with runs in flight, and catches up once they end', async () => {
    const h = harness();
    await h.cache.run(ref('a', 300), {});
    const gate = h.hold('a');
    const lease = await h.cache.acquire(ref('a', 300));
    const running = lease.run({});
    await h.cache.load(ref('b', 300));
    // a (600) + b (600) exceed the budget, but a is busy: nothing could be unloaded.
    expect(h.released).toEqual([]);
    expect(h.cache.status('sha256:a').inFlight).toBe(1);
    gate.resolve();
    await running;
    lease.release();
    expect(h.released).toEqual(['sha256:a']);
    expect(h.cache.usedBytes()).toBe(600);
  });

  it('keeps a failed load to its own model, reports why, and retries after failedRetryMs', async () => {
    const failing = new Set(['sha256:bad']);
    const h = harness({ failing });
    await h.cache.run(ref('good'), {});
    const err = await h.cache.run(ref('bad'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UNAVAILABLE');
    expect((err as AppError).message).toBe('failed to load: bad bytes in sha256:bad');
    expect(h.cache.status('sha256:bad')).toMatchObject({ state: 'FAILED', reason: 'failed to load: bad bytes in sha256:bad' });
    await h.cache.run(ref('good'), {});
    // Within the retry interval the failure is answered from memory.
    await expect(h.cache.run(ref('bad'), {})).rejects.toThrow(/bad bytes/);
    expect(h.created.filter((d) => d === 'sha256:bad')).toHaveLength(1);
    h.clock.advance(5000);
    failing.clear();
    await h.cache.run(ref('bad'), {});
    expect(h.cache.status('sha256:bad').state).toBe('READY');
  });

  it('retries a failed model at once on an explicit load', async () => {
    const failing = new Set(['sha256:bad']);
    const h = harness({ failing });
    await expect(h.cache.load(ref('bad'))).rejects.toThrow(/bad bytes/);
    failing.clear();
    await h.cache.load(ref('bad'));
    expect(h.cache.status('sha256:bad').state).toBe('READY');
  });

  it('unloads on request, releasing the session only after runs in flight end', async () => {
    const h = harness();
    await h.cache.load(ref('a'));
    const gate = h.hold('a');
    const running = h.cache.run(ref('a'), {});
    await new Promise((r) => setImmediate(r));
    expect(h.cache.unload('sha256:a')).toBe(true);
    expect(h.cache.status('sha256:a').state).toBe('UNLOADED');
    expect(h.released).toEqual([]);
    gate.resolve();
    await running;
    expect(h.released).toEqual(['sha256:a']);
    expect(h.cache.unload('sha256:a')).toBe(false);
  });

  it('serves real ONNX models: many at once, and a corrupt one fails alone', async () => {
    const linear = (w: number) => buildLinearModel({ features: 2, weights: [w, w], bias: 0 });
    const broken = buildOnnxModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
      nodes: [{ opType: 'NoSuchOp', inputs: ['x'], outputs: ['y'] }],
    });
    const blobs = new Map<string, Uint8Array>([
      ['sha256:one', linear(1)],
      ['sha256:two', linear(2)],
      ['sha256:broken', broken],
    ]);
    const cache = new ModelCache({
      budgetBytes: 1 << 20,
      memoryFactor: 2,
      warmup: true,
      failedRetryMs: 0,
      readBytes: async (d) => blobs.get(d) as Uint8Array,
      createSession: ortSessionFactory({ intraOpNumThreads: 1 }),
      clock: new ManualClock(0),
      logger: silentLogger,
    });
    const x = () => ({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [1, 2]) });
    const [one, two, bad] = await Promise.allSettled([
      cache.run(ref('one'), x()),
      cache.run(ref('two'), x()),
      cache.run(ref('broken'), x()),
    ]);
    expect(one.status === 'fulfilled' && Array.from(one.value.y?.data as Float32Array)).toEqual([3]);
    expect(two.status === 'fulfilled' && Array.from(two.value.y?.data as Float32Array)).toEqual([6]);
    expect(bad.status === 'rejected' && (bad.reason as Error).message).toMatch(/failed to load: .*NoSuchOp/);
    await cache.close();
  });
});
