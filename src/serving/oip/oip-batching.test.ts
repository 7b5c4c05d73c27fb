import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { ModelCache, ModelRef } from '../runtime/model-cache.ts';
import { batchable, OipBatchers } from './oip-batching.ts';

/** A model taking x (float32 [batch, 2]) and tag (string [batch, 1]); y = 2x, id = index as int64, echo = tag. */
const ref: ModelRef = {
  digest: 'sha256:test',
  size: 1,
  signature: {
    inputs: [
      { name: 'x', dtype: 'float32', shape: ['batch', 2] },
      { name: 'tag', dtype: 'string', shape: ['batch', 1] },
    ],
    outputs: [
      { name: 'y', dtype: 'float32', shape: ['batch', 2] },
      { name: 'n', dtype: 'int64', shape: ['batch'] },
      { name: 'echo', dtype: 'string', shape: ['batch', 1] },
    ],
  },
};
const order = ['x', 'tag'];
const fetchAll = ['y', 'n', 'echo'];

interface FakeCache {
  calls: number[];
  gate: Promise<void> | null;
  run: ModelCache['run'];
}

function fakeCache(): FakeCache {
  const cache: FakeCache = {
    calls: [],
    gate: null,
    async run(_ref, feeds) {
      const x = feeds.x as ort.Tensor;
      const rows = x.dims[0] as number;
      cache.calls.push(rows);
      if (cache.gate) await cache.gate;
      const xs = x.data as Float32Array;
      if (xs.some((v) => Number.isNaN(v))) throw new Error('NaN input');
      return {
        y: new ort.Tensor(
          'float32',
          xs.map((v) => v * 2),
          [rows, 2],
        ),
        n: new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: rows }, (_, i) => BigInt(xs[i * 2] as number) + 2n ** 60n),
          [rows],
        ),
        echo: new ort.Tensor('string', [...((feeds.tag as ort.Tensor).data as string[])], [rows, 1]),
      };
    },
  };
  return cache;
}

const request = (xs: number[][], tags: string[]) => ({
  x: new ort.Tensor('float32', Float32Array.from(xs.flat()), [xs.length, 2]),
  tag: new ort.Tensor('string', tags, [tags.length, 1]),
});

const model = { name: 'm', version: 1, ref };

describe('OipBatchers', () => {
  it('runs concurrent requests in one model call and gives each its own rows and outputs, types kept', async () => {
    const cache = fakeCache();
    const batchers = new OipBatchers(cache as unknown as ModelCache);
    const [a, b, c] = await Promise.all([
      batchers.run(
        model,
        order,
        fetchAll,
        request(
          [
            [1, 2],
            [3, 4],
          ],
          ['a', 'b'],
        ),
        ['y', 'n', 'echo'],
        {},
      ),
      batchers.run(model, order, fetchAll, request([[5, 6]], ['c']), ['echo'], {}),
      batchers.run(
        model,
        order,
        fetchAll,
        request(
          [
            [7, 8],
            [9, 10],
            [11, 12],
          ],
          ['d', 'e', 'f'],
        ),
        ['n', 'y'],
        {},
      ),
    ]);
    expect(cache.calls).toEqual([6]);
    expect(Object.keys(a ?? {})).toEqual(['y', 'n', 'echo']);
    expect(a?.y?.dims).toEqual([2, 2]);
    expect(Array.from(a?.y?.data as Float32Array)).toEqual([2, 4, 6, 8]);
    expect(a?.n?.type).toBe('int64');
    expect(Array.from(a?.n?.data as BigInt64Array)).toEqual([1n + 2n ** 60n, 3n + 2n ** 60n]);
    expect(Object.keys(b ?? {})).toEqual(['echo']);
    expect([b?.echo?.data, b?.echo?.dims]).toEqual([['c'], [1, 1]]);
    expect(Object.keys(c ?? {})).toEqual(['n', 'y']);
    expect(Array.from(c?.y?.data as Float32Array)).toEqual([14, 16, 18, 20, 22, 24]);
    await batchers.close();
  });

  it('at low load runs a request on its own tensors, fetching what it asked for; with a timeout it queues', async () => {
    const cache = fakeCache();
    const seen: { feeds: Record<string, ort.Tensor>; fetches: readonly string[] | undefined }[] = [];
    const run = cache.run;
    cache.run = async (r, feeds, fetches) => {
      seen.push({ feeds, fetches });
      return run(r, feeds, fetches);
    };
    const observed: number[] = [];
    const metrics = { observerFor: () => (info: { items: number }) => observed.push(info.items), watchQueue: () => undefined };
    const batchers = new OipBatchers(cache as unknown as ModelCache, undefined, metrics);
    const settle = () => new Promise((r) => setImmediate(r));
    await batchers.run(model, order, fetchAll, request([[1, 2]], ['a']), ['y'], {});
    await settle();
    const feeds = request(
      [
        [3, 4],
        [5, 6],
      ],
      ['b', 'c'],
    );
    const out = await batchers.run(model, order, fetchAll, feeds, ['echo', 'y'], {});
    expect(seen[1]?.feeds).toBe(feeds);
    expect(seen[1]?.fetches).toEqual(['echo', 'y']);
    expect(out.echo?.data).toEqual(['b', 'c']);
    expect(Array.from(out.y?.data as Float32Array)).toEqual([6, 8, 10, 12]);
    await settle();
    await batchers.run(model, order, fetchAll, request([[7, 8]], ['d']), ['y'], { timeoutMs: 1000 });
    expect(seen[2]?.fetches).toEqual(fetchAll);
    expect(observed).toEqual([1, 2, 1]);
    await batchers.close();
  });

  it('refuses outputs without the batch dimension on the low-load path too', async () => {
    const cache = fakeCache();
    const run = cache.run;
    let broken = false;
    cache.run = async (r, feeds, fetches) => {
      const out = await run(r, feeds, fetches);
      return broken ? { ...out, y: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) } : out;
    };
    const batchers = new OipBatchers(cache as unknown as ModelCache);
    await batchers.run(model, order, fetchAll, request([[1, 2]], ['a']), ['y'], {});
    await new Promise((r) => setImmediate(r));
    broken = true;
    await expect(batchers.run(model, order, fetchAll, request([[3, 4]], ['b']), ['y'], {})).rejects.toMatchObject({
      code: 'INFERENCE_FAILED',
      message: expect.stringContaining('no batch dimension'),
    });
    await batchers.close();
  });

  it('gives two versions of one file batchers of their own, each observed under its own version', async () => {
    const cache = fakeCache();
    const observed: string[] = [];
    const metrics = {
      observerFor: (label: string) => () => observed.push(label),
      watchQueue: () => undefined,
    };
    const batchers = new OipBatchers(cache as unknown as ModelCache, undefined, metrics);
    await batchers.run({ name: 'm', version: 1, ref }, order, fetchAll, request([[1, 2]], ['a']), ['y'], {});
    await batchers.run({ name: 'm', version: 2, ref }, order, fetchAll, request([[3, 4]], ['b']), ['y'], {});
    expect(observed).toEqual(['m@1', 'm@2']);
    await batchers.close();
  });

  it('splits a request larger than a batch across model calls and joins its rows back in order', async () => {
    const cache = fakeCache();
    const batchers = new OipBatchers(cache as unknown as ModelCache, { maxBatchRows: 2, maxQueueDelayMs: 0, maxQueueRows: 100 });
    const xs = [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ];
    const out = await batchers.run(model, order, fetchAll, request(xs, ['a', 'b', 'c', 'd', 'e']), ['y', 'echo'], {});
    expect(cache.calls).toEqual([2, 2, 1]);
    expect(Array.from(out.y?.data as Float32Array)).toEqual(xs.flat().map((v) => v * 2));
    expect(out.echo?.data).toEqual(['a', 'b', 'c', 'd', 'e']);
    await batchers.close();
  });

  it('passes a request that is a whole batch through without copying its inputs or outputs', async () => {
    const cache = fakeCache();
    const seen: Record<string, ort.Tensor>[] = [];
    const returned: Record<string, ort.Tensor>[] = [];
    const run = cache.run;
    cache.run = async (r, feeds, fetches) => {
      seen.push(feeds);
      const out = await run(r, feeds, fetches);
      returned.push(out);
      return out;
    };
    const batchers = new OipBatchers(cache as unknown as ModelCache);
    const feeds = request(
      [
        [1, 2],
        [3, 4],
      ],
      ['a', 'b'],
    );
    const out = await batchers.run(model, order, fetchAll, feeds, ['y', 'echo'], {});
    expect(seen[0]?.x).toBe(feeds.x);
    expect(seen[0]?.tag).toBe(feeds.tag);
    expect(out.y).toBe(returned[0]?.y);
    expect(Array.from(out.y?.data as Float32Array)).toEqual([2, 4, 6, 8]);
    await batchers.close();
  });

  it('sheds load with OVERLOADED and a retry hint when the queue is full', async () => {
    const cache = fakeCache();
    let open!: () => void;
    cache.gate = new Promise((r) => {
      open = r;
    });
    const batchers = new OipBatchers(cache as unknown as ModelCache, { maxBatchRows: 1, maxQueueDelayMs: 0, maxQueueRows: 1 });
    const running = batchers.run(model, order, fetchAll, request([[1, 1]], ['a']), ['y'], {});
    await new Promise((r) => setImmediate(r));
    const queued = batchers.run(model, order, fetchAll, request([[2, 2]], ['b']), ['y'], {});
    await expect(batchers.run(model, order, fetchAll, request([[3, 3]], ['c']), ['y'], {})).rejects.toMatchObject({
      code: 'OVERLOADED',
      details: { retryAfterMs: expect.any(Number) },
    });
    open();
    expect(Array.from((await running).y?.data as Float32Array)).toEqual([2, 2]);
    expect(Array.from((await queued).y?.data as Float32Array)).toEqual([4, 4]);
    await batchers.close();
  });

  it('fails only the request whose rows make the model fail, not the others in its batch', async () => {
    const cache = fakeCache();
    const batchers = new OipBatchers(cache as unknown as ModelCache);
    const [good, bad] = await Promise.allSettled([
      batchers.run(model, order, fetchAll, request([[1, 2]], ['a']), ['y'], {}),
      batchers.run(model, order, fetchAll, request([[Number.NaN, 2]], ['b']), ['y'], {}),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'INFERENCE_FAILED', message: /NaN input/ } });
    await batchers.close();
  });

  it('batches only models whose inputs and outputs all lead with a dynamic dimension and fix the rest', () => {
    const { inputs, outputs } = ref.signature;
    expect(batchable(inputs, outputs)).toBe(true);
    expect(batchable([{ name: 'x', dtype: 'float32', shape: [1, 2] }], outputs)).toBe(false);
    expect(batchable([{ name: 'x', dtype: 'float32', shape: ['batch', 'seq'] }], outputs)).toBe(false);
    expect(batchable(inputs, [{ name: 'y', dtype: 'float32', shape: [] }])).toBe(false);
    expect(batchable([{ name: 'x', dtype: 'float32', shape: ['batch', 2], rankUnknown: true } as never], outputs)).toBe(false);
  });
});
