/**
 * Open Inference Protocol v2 (REST) conformance, written from kserve/open-inference-protocol's
 * `specification/protocol/inference_rest.md` and the model repository extension (Triton, MLServer),
 * against a real Keel: every endpoint, every datatype ONNX Runtime exchanges, the error cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLinearModel, buildOnnxModel } from '../../src/registry/index.ts';
import { type OipDatatype, oipDatatypes } from '../../src/serving/index.ts';
import { ApiClient, type ApiResponse, freshName, jsonOf, Seeder } from '../helpers/api-fixtures.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const onnxDtype: Record<OipDatatype, string> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
/** Values at the edges of each type's range; the FP ones are exact in their width. */
const samples: Record<OipDatatype, unknown[][]> = {
  BOOL: [
    [true, false],
    [false, true],
  ],
  UINT8: [
    [0, 255],
    [1, 128],
  ],
  UINT16: [
    [0, 65535],
    [1, 300],
  ],
  UINT32: [
    [0, 4294967295],
    [1, 70000],
  ],
  UINT64: [
    [0, '18446744073709551615'],
    [1, 9007199254740991],
  ],
  INT8: [
    [-128, 127],
    [0, -1],
  ],
  INT16: [
    [-32768, 32767],
    [0, -1],
  ],
  INT32: [
    [-2147483648, 2147483647],
    [0, -1],
  ],
  INT64: [
    ['-9223372036854775808', '9223372036854775807'],
    [0, -9007199254740991],
  ],
  FP16: [
    [1.5, -65504],
    [0.0009765625, 0],
  ],
  FP32: [
    [0.25, -3.5],
    [1e-45 * 0, 16777216],
  ],
  FP64: [
    [Math.PI, -1e300],
    ['NaN', 'Infinity'],
  ],
  BYTES: [
    ['', 'héllo'],
    ['a b', '{"x":1}'],
  ],
};

const identity = (dtype: string) =>
  buildOnnxModel({
    inputs: [{ name: 'x', dtype, shape: ['n', 2] }],
    outputs: [{ name: 'y', dtype, shape: ['n', 2] }],
    nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
const twoOutputs = buildOnnxModel({
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
  outputs: [
    { name: 'same', dtype: 'float32', shape: ['batch', 2] },
    { name: 'negated', dtype: 'float32', shape: ['batch', 2] },
  ],
  nodes: [
    { opType: 'Identity', inputs: ['x'], outputs: ['same'] },
    { opType: 'Neg', inputs: ['x'], outputs: ['negated'] },
  ],
});
const twoInputs = buildOnnxModel({
  inputs: [
    { name: 'a', dtype: 'int64', shape: ['batch', 1] },
    { name: 'b', dtype: 'int64', shape: ['batch', 1] },
  ],
  outputs: [{ name: 'sum', dtype: 'int64', shape: ['batch', 1] }],
  nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['sum'] }],
});
// Valid protobuf with a readable signature (so the registry takes it) that ONNX Runtime refuses to load.
const corrupt = buildOnnxModel({
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
  nodes: [{ opType: 'NoSuchOperator', inputs: ['x'], outputs: ['y'] }],
});

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}
interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: Tensor[];
}

describe('Open Inference Protocol v2', () => {
  let keel: TestKeel;
  let api: ApiClient;
  let seed: Seeder;
  const keys = { admin: '', predictor: '', viewer: '', deployer: '', otherPredictor: '' };
  const names = {
    linear: freshName('linear'),
    two: freshName('two-out'),
    sum: freshName('sum'),
    broken: freshName('broken'),
    other: freshName('elsewhere'),
    types: {} as Record<OipDatatype, string>,
  };
  let otherProject = '';

  const register = async (name: string, bytes: Uint8Array, project = 'default') =>
    seed.registerVersion(name, await seed.upload(Buffer.from(bytes)), project);
  /** `key`: the predictor's unless given; null sends none. */
  const call = (method: string, path: string, json?: unknown, key: string | null = keys.predictor) =>
    api.request({ method, path, key: key ?? undefined, json });
  const infer = (model: string, body: unknown, key?: string) =>
    call('POST', `/v2/models/${model}/infer`, body, key ?? keys.predictor);
  const fp32 = (data: unknown, shape = [1, 3]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape, data }] });
  const oipError = (res: ApiResponse): string => {
    const body = res.body as { error?: unknown };
    expect(typeof body?.error, res.raw.toString().slice(0, 300)).toBe('string');
    return body.error as string;
  };
  const expectError = (res: ApiResponse, status: number, pattern: RegExp) => {
    expect(res.status, res.raw.toString().slice(0, 300)).toBe(status);
    expect(oipError(res)).toMatch(pattern);
  };

  beforeAll(async () => {
    keel = await startTestKeel();
    api = new ApiClient(keel.url);
    keys.admin = keel.adminKey as string;
    seed = new Seeder(api, keys.admin);
    otherProject = (await seed.createProject()).name;
    for (const role of ['predictor', 'viewer', 'deployer'] as const) keys[role] = (await seed.createKey(role, ['default'])).key;
    keys.otherPredictor = (await seed.createKey('predictor', [otherProject])).key;

    await register(names.linear, buildLinearModel({ features: 3, weights: [1, 2, 3], bias: 0.5 }));
    await register(names.linear, buildLinearModel({ features: 3, weights: [10, 20, 30], bias: 0 }));
    await register(names.linear, buildLinearModel({ features: 3, weights: [0, 0, 0], bias: -1 }));
    await seed.moveAlias(names.linear, 'champion', 1);
    await register(names.two, twoOutputs);
    await register(names.sum, twoInputs);
    await register(names.broken, corrupt);
    await register(names.other, buildLinearModel({ features: 1, weights: [2], bias: 0 }), otherProject);
    for (const dt of oipDatatypes) {
      names.types[dt] = freshName(`id-${dt.toLowerCase()}`);
      await register(names.types[dt], identity(onnxDtype[dt]));
    }
  });
  afterAll(async () => {
    api?.close();
    await keel?.dispose();
  });

  describe('health and server metadata', () => {
    it('answers liveness and readiness without a key, by status and body', async () => {
      const live = await call('GET', '/v2/health/live', undefined, null);
      expect([live.status, live.body]).toEqual([200, { live: true }]);
      const ready = await call('GET', '/v2/health/ready', undefined, null);
      expect([ready.status, ready.body]).toEqual([200, { ready: true }]);
    });

    it('describes the server, with the model repository extension', async () => {
      const res = await call('GET', '/v2');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ name: 'keel', version: expect.any(String), extensions: ['model_repository'] });
    });
  });

  describe('model metadata and readiness', () => {
    it('reports name, versions, platform and tensors in OIP datatypes with -1 for dynamic dims', async () => {
      const res = await call('GET', `/v2/models/${names.linear}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        name: names.linear,
        versions: ['1', '2', '3'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
      });
      const versioned = await call('GET', `/v2/models/${names.linear}/versions/2`);
      expect(jsonOf<{ name: string }>(versioned).name).toBe(names.linear);
      for (const dt of oipDatatypes) {
        const meta = jsonOf<{ inputs: Tensor[] }>(await call('GET', `/v2/models/${names.types[dt]}`));
        expect(meta.inputs, dt).toEqual([{ name: 'x', datatype: dt, shape: [-1, 2] }]);
      }
    });

    it('is not ready before loading; the probe starts the load and turns ready', async () => {
      const path = `/v2/models/${names.two}/ready`;
      const first = await call('GET', path);
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ name: names.two, ready: false });
      let res = first;
      for (let i = 0; i < 100 && res.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 20));
        res = await call('GET', path);
      }
      expect([res.status, res.body]).toEqual([200, { name: names.two, version: '1', ready: true, state: 'READY' }]);
      const versioned = await call('GET', `/v2/models/${names.two}/versions/1/ready`);
      expect(versioned.status).toBe(200);
    });

    it('answers 404 {error} for unknown models and versions', async () => {
      expectError(await call('GET', `/v2/models/${freshName('nope')}`), 404, /does not exist/);
      expectError(await call('GET', `/v2/models/${names.linear}/versions/9`), 404, /has no version '9'/);
      expectError(await call('GET', `/v2/models/${names.linear}/versions/v1`), 404, /has no version 'v1'/);
      expectError(await call('GET', `/v2/models/${freshName('nope')}/ready`), 404, /does not exist/);
      expectError(await infer(freshName('nope'), fp32([1, 2, 3])), 404, /does not exist/);
      expectError(await call('GET', '/v2/no/such/route'), 404, /no route GET \/v2\/no\/such\/route/);
      expectError(await call('GET', '/v2/models/%ZZ'), 400, /./);
      expectError(await call('GET', `/v2/models/${'m'.repeat(2000)}`), 400, /too long/);
    });
  });

  describe('inference', () => {
    it.each(oipDatatypes)('round-trips %s end to end (nested data in, flat data out)', async (dt) => {
      const data = samples[dt];
      const res = await infer(names.types[dt], { inputs: [{ name: 'x', datatype: dt, shape: [2, 2], data }] });
      expect(res.status, res.raw.toString().slice(0, 300)).toBe(200);
      expect(jsonOf<InferResponse>(res).outputs).toEqual([{ name: 'y', datatype: dt, shape: [2, 2], data: data.flat() }]);
    });

    it('serves the champion when no version is named, a version when one is, and echoes the id', async () => {
      const body = { id: 'req-42', parameters: { priority: 1 }, ...fp32([1, 1, 1]) };
      const res = jsonOf<InferResponse>(await infer(names.linear, body));
      expect(res).toEqual({
        model_name: names.linear,
        model_version: '1',
        id: 'req-42',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [6.5] }],
      });
      const v2 = jsonOf<InferResponse>(await call('POST', `/v2/models/${names.linear}/versions/2/infer`, fp32([1, 1, 1])));
      expect([v2.model_version, v2.outputs[0]?.data, v2.id]).toEqual(['2', [60], undefined]);
    });

    it('serves the latest version when there is no champion', async () => {
      const res = jsonOf<InferResponse>(await infer(names.sum, sumBody(1, 2)));
      expect(res.model_version).toBe('1');
      const name = freshName('latest');
      await register(name, buildLinearModel({ features: 1, weights: [1], bias: 0 }));
      await register(name, buildLinearModel({ features: 1, weights: [5], bias: 0 }));
      const out = jsonOf<InferResponse>(await infer(name, fp32([1], [1, 1])));
      expect([out.model_version, out.outputs[0]?.data]).toEqual(['2', [5]]);
    });

    it('takes flat and nested data alike and batches rows', async () => {
      const flat = jsonOf<InferResponse>(await infer(names.linear, fp32([1, 0, 0, 0, 1, 0], [2, 3])));
      const nested = jsonOf<InferResponse>(
        await infer(
          names.linear,
          fp32(
            [
              [1, 0, 0],
              [0, 1, 0],
            ],
            [2, 3],
          ),
        ),
      );
      expect(flat.outputs).toEqual(nested.outputs);
      expect(flat.outputs[0]).toEqual({ name: 'y', datatype: 'FP32', shape: [2, 1], data: [1.5, 2.5] });
    });

    it('returns only the requested outputs, in request order, with output parameters accepted', async () => {
      const x = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, -2] }] };
      const both = jsonOf<InferResponse>(await infer(names.two, x));
      expect(both.outputs.map((o) => o.name)).toEqual(['same', 'negated']);
      const one = jsonOf<InferResponse>(await infer(names.two, { ...x, outputs: [{ name: 'negated', parameters: { a: 1 } }] }));
      expect(one.outputs).toEqual([{ name: 'negated', datatype: 'FP32', shape: [1, 2], data: [-1, 2] }]);
      const reordered = jsonOf<InferResponse>(await infer(names.two, { ...x, outputs: [{ name: 'negated' }, { name: 'same' }] }));
      expect(reordered.outputs.map((o) => o.name)).toEqual(['negated', 'same']);
      // An empty list names nothing, as an absent one: every output comes back.
      const none = jsonOf<InferResponse>(await infer(names.two, { ...x, outputs: [] }));
      expect(none.outputs).toEqual(both.outputs);
      expectError(await infer(names.two, { ...x, outputs: [{ name: 'nope' }] }), 400, /unknown output 'nope'.*same, negated/);
    });

    it('refuses bad tensors with 400 {error} saying what to fix', async () => {
      const cases: [unknown, RegExp][] = [
        [{ inputs: [{ name: 'x', datatype: 'FLOAT', shape: [1, 3], data: [1, 2, 3] }] }, /unsupported datatype 'FLOAT'/],
        [{ inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] }] }, /expects datatype FP32, got FP64/],
        [fp32([1, 2]), /shape \[1, 3\] needs 3 values, data has 2/],
        [fp32([1, 2, 3, 4], [1, 4]), /expects shape \[-1, 3\], got \[1, 4\]/],
        [fp32([1, 2, 3], [3]), /expects shape \[-1, 3\], got \[3\]/],
        [fp32([[1, 2], [3]], [2, 2]), /nested data does not match shape/],
        [fp32([1, 'a', 3]), /element 1 must be a number for FP32/],
        [{ inputs: [{ name: 'z', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }, /unknown input 'z'; the model takes: x/],
        [{ inputs: [fp32([1, 2, 3]).inputs[0], fp32([1, 2, 3]).inputs[0]] }, /given twice/],
        [{ inputs: [] }, /missing input\(s\): x/],
        [{}, /inputs/],
        [{ id: 7, ...fp32([1, 2, 3]) }, /id/],
      ];
      for (const [body, pattern] of cases) expectError(await infer(names.linear, body), 400, pattern);
      expectError(await infer(names.sum, { inputs: [sumBody(1, 2).inputs[0]] }), 400, /missing input\(s\): b/);
      const mismatched = sumBody(1, 2);
      (mismatched.inputs[1] as { shape: number[]; data: unknown[] }).shape = [2, 1];
      (mismatched.inputs[1] as { shape: number[]; data: unknown[] }).data = [1, 2];
      expectError(await infer(names.sum, mismatched), 400, /dim 'batch' is 2 here but 1 in another input/);
      const malformed = await api.request({
        method: 'POST',
        path: `/v2/models/${names.linear}/infer`,
        key: keys.predictor,
        body: '{"inputs": [',
        contentType: 'application/json',
      });
      expectError(malformed, 400, /JSON/i);
    });

    it('answers 501 for the binary tensor data extension', async () => {
      const res = await api.request({
        method: 'POST',
        path: `/v2/models/${names.linear}/infer`,
        key: keys.predictor,
        json: fp32([1, 2, 3]),
        headers: { 'inference-header-content-length': '10' },
      });
      expectError(res, 501, /binary tensor data extension/);
      expectError(await infer(names.linear, { ...fp32([1, 2, 3]), parameters: { binary_data_output: true } }), 501, /binary/);
      expectError(
        await infer(names.linear, { ...fp32([1, 2, 3]), outputs: [{ name: 'y', parameters: { binary_data: true } }] }),
        501,
        /binary/,
      );
    });

    it('honours timeout and priority parameters as the predict API does, and refuses unusable ones with 400', async () => {
      const ok = await infer(names.linear, { ...fp32([1, 2, 3]), parameters: { timeout: 60_000, priority: 5, other: 'kept' } });
      expect(ok.status).toBe(200);
      expectError(await infer(names.linear, { ...fp32([1, 2, 3]), parameters: { timeout: 'soon' } }), 400, /parameters.timeout/);
      expectError(await infer(names.linear, { ...fp32([1, 2, 3]), parameters: { timeout: 0 } }), 400, /parameters.timeout/);
      expectError(await infer(names.linear, { ...fp32([1, 2, 3]), parameters: { priority: 1.5 } }), 400, /parameters.priority/);
    });

    it('keeps int64 exact across the full range with decimal strings', async () => {
      const res = jsonOf<InferResponse>(await infer(names.sum, sumBody('9007199254740993', 1)));
      expect(res.outputs[0]?.data).toEqual(['9007199254740994']);
    });

    it('isolates a model that fails to load: 503 with the reason while the others serve', async () => {
      const failed = await infer(names.broken, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });
      expectError(failed, 503, /failed to load: .*NoSuchOperator/);
      expect((await infer(names.linear, fp32([1, 1, 1]))).status).toBe(200);
      const ready = await call('GET', `/v2/models/${names.broken}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ ready: false, state: 'UNAVAILABLE', reason: expect.stringMatching(/NoSuchOperator/) });
    });
  });

  describe('auth', () => {
    it('needs a serving key on everything but the health probes; errors keep the OIP shape', async () => {
      const paths: [string, string, unknown][] = [
        ['GET', '/v2', undefined],
        ['GET', `/v2/models/${names.linear}`, undefined],
        ['GET', `/v2/models/${names.linear}/ready`, undefined],
        ['POST', `/v2/models/${names.linear}/infer`, fp32([1, 2, 3])],
        ['POST', '/v2/repository/index', {}],
      ];
      for (const [method, path, json] of paths) {
        expectError(await call(method, path, json, null), 401, /missing API key/);
        expectError(await call(method, path, json, 'keel_bogus'), 401, /malformed API key/);
        expectError(await call(method, path, json, keys.viewer), 403, /role 'viewer' may not serving predict/);
        expect((await call(method, path, json, keys.predictor)).status, `${method} ${path}`).toBe(200);
        expect((await call(method, path, json, keys.admin)).status, `${method} ${path}`).toBe(200);
      }
    });

    it('scopes predictor keys to their projects', async () => {
      const q = `?project=${otherProject}`;
      const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [3] }] };
      expectError(await call('POST', `/v2/models/${names.other}/infer${q}`, body), 403, /not scoped/);
      const ok = await call('POST', `/v2/models/${names.other}/infer${q}`, body, keys.otherPredictor);
      expect(jsonOf<InferResponse>(ok).outputs[0]?.data).toEqual([6]);
      // Now the project and the model are in memory (the synchronous path): still refused.
      expectError(await call('POST', `/v2/models/${names.other}/infer${q}`, body), 403, /not scoped/);
      expectError(
        await call('POST', `/v2/models/${names.linear}/infer`, fp32([1, 2, 3]), keys.otherPredictor),
        403,
        /not scoped/,
      );
    });
  });

  describe('model repository extension', () => {
    type Entry = { name: string; version: string; state: string; reason: string };
    const index = async (body: unknown = {}) => jsonOf<Entry[]>(await call('POST', '/v2/repository/index', body));

    it('lists every version with its state and the reason a model is unavailable', async () => {
      await infer(names.linear, fp32([1, 1, 1]));
      const entries = await index();
      const linear = entries.filter((e) => e.name === names.linear);
      expect(linear).toEqual([
        { name: names.linear, version: '1', state: 'READY', reason: '' },
        { name: names.linear, version: '2', state: 'READY', reason: '' },
        { name: names.linear, version: '3', state: 'UNAVAILABLE', reason: '' },
      ]);
      expect(entries.find((e) => e.name === names.broken)).toMatchObject({ state: 'UNAVAILABLE', reason: /NoSuchOperator/ });
      expect(entries.some((e) => e.name === names.other)).toBe(false);
      const ready = await index({ ready: true });
      expect(ready.every((e) => e.state === 'READY')).toBe(true);
      expect(ready.some((e) => e.name === names.linear)).toBe(true);
    });

    it('unloads a model until it is loaded again; load and unload need a deployer', async () => {
      const base = `/v2/repository/models/${names.linear}`;
      expectError(await call('POST', `${base}/unload`, {}, keys.predictor), 403, /may not deployment write/);
      const unloaded = await call('POST', `${base}/unload`, {}, keys.deployer);
      expect([unloaded.status, unloaded.body]).toEqual([200, { name: names.linear, unload: true }]);
      expectError(await infer(names.linear, fp32([1, 1, 1])), 503, /is unloaded; POST .*\/load/);
      const ready = await call('GET', `/v2/models/${names.linear}/ready`);
      expect([ready.status, ready.body]).toEqual([
        503,
        { name: names.linear, version: '1', ready: false, state: 'UNAVAILABLE', reason: 'unloaded' },
      ]);
      expect((await index()).find((e) => e.name === names.linear)).toMatchObject({ state: 'UNAVAILABLE', reason: 'unloaded' });

      const loaded = await call('POST', `${base}/load`, undefined, keys.deployer);
      expect([loaded.status, loaded.body]).toEqual([200, { name: names.linear, version: '1', load: true }]);
      expect((await call('GET', `/v2/models/${names.linear}/ready`)).status).toBe(200);
      expect((await infer(names.linear, fp32([1, 1, 1]))).status).toBe(200);
    });

    it('answers a failed load with 503 and the reason, and unknown models with 404', async () => {
      expectError(await call('POST', `/v2/repository/models/${names.broken}/load`, {}, keys.admin), 503, /NoSuchOperator/);
      expectError(await call('POST', `/v2/repository/models/${freshName('x')}/load`, {}, keys.admin), 404, /does not exist/);
    });
  });

  it('never answers malformed infer bodies with a 5xx', async () => {
    let state = 12345;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const atoms: unknown[] = [null, true, 0, -1, 1.5, 1e308, 'x', '', [], {}, [[]], 'NaN', '9223372036854775808', 2 ** 64];
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)] as T;
    const value = (depth = 0): unknown =>
      depth > 2 || rand(3) === 0
        ? pick(atoms)
        : rand(2) === 0
          ? Array.from({ length: rand(4) }, () => value(depth + 1))
          : { [pick(['name', 'shape', 'datatype', 'data', 'inputs', 'x'])]: value(depth + 1) };
    const tensor = () => {
      const t: Record<string, unknown> = {
        name: rand(4) === 0 ? value() : pick(['x', 'a', 'b', 'y']),
        datatype: rand(4) === 0 ? value() : pick([...oipDatatypes, 'FP8', 'fp32']),
        shape: rand(3) === 0 ? value() : Array.from({ length: rand(3) }, () => pick([0, 1, 2, 3, -1, 1.5, 2 ** 40])),
        data: rand(3) === 0 ? value() : Array.from({ length: rand(7) }, () => (rand(2) ? pick(atoms) : rand(100))),
      };
      if (rand(5) === 0) delete t[pick(Object.keys(t))];
      return t;
    };
    const models = [names.linear, names.sum, names.two, names.types.BYTES, names.types.UINT64, names.types.FP16];
    const bodies = Array.from({ length: 5000 }, () =>
      rand(10) === 0
        ? value()
        : {
            ...(rand(4) === 0 ? { id: value() } : {}),
            ...(rand(4) === 0 ? { parameters: value() } : {}),
            inputs: rand(8) === 0 ? value() : Array.from({ length: rand(3) }, tensor),
            ...(rand(4) === 0 ? { outputs: rand(2) ? value() : [{ name: pick(['y', 'same', 'zz']) }] } : {}),
          },
    );
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          const res = await infer(pick(models), body);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500 || res.status !== 200) {
            expect(res.status, `${JSON.stringify(body).slice(0, 300)} → ${res.raw.toString().slice(0, 300)}`).toBeLessThan(500);
            oipError(res);
          }
        }
      }),
    );
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect((await infer(names.linear, fp32([1, 1, 1]))).status).toBe(200);
  });
});

function sumBody(a: unknown, b: unknown) {
  return {
    inputs: [
      { name: 'a', datatype: 'INT64', shape: [1, 1], data: [a] },
      { name: 'b', datatype: 'INT64', shape: [1, 1], data: [b] },
    ],
  };
}
