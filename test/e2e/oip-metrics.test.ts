import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearProbability, startLinearKeel } from '../helpers/serving-fixtures.ts';
import type { TestKeel } from '../helpers/test-keel.ts';

/** Prometheus text lines of one metric family (samples only). */
async function samples(url: string, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('/v2 infer metrics over HTTP', () => {
  let keel: TestKeel;
  let predictorKey: string;

  beforeAll(async () => {
    ({ keel, predictorKey } = await startLinearKeel());
  });
  afterAll(async () => keel?.dispose());

  const infer = (model: string, body: unknown, key: string | null = predictorKey) =>
    fetch(`${keel.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const rows = (xs: [number, number][]) => ({
    inputs: [{ name: 'x', shape: [xs.length, 2], datatype: 'FP32', data: xs.flat() }],
  });

  it('counts every infer request by model, version and outcome, times the answered ones and sizes the model runs', async () => {
    const xs: [number, number][] = [
      [1, 2],
      [3, -1],
      [0.5, 0.25],
    ];
    const answers = await Promise.all(xs.map((x) => infer('lin', rows([x]))));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { outputs: { data: number[] }[] }[];
    for (const [i, b] of bodies.entries()) {
      expect(b.outputs[0]?.data[0]).toBeCloseTo(linearProbability(xs[i] as [number, number]), 5);
    }

    // Refused at each layer: the model's signature, the registry, the body schema, malformed JSON, authentication.
    const wrongShape = await infer('lin', { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });
    expect(wrongShape.status).toBe(400);
    expect((await infer('no-such-model', rows([[1, 1]]))).status).toBe(404);
    expect((await infer('lin', { inputs: 'not a list' })).status).toBe(400);
    expect((await infer('lin', '{"inputs": [')).status).toBe(400);
    expect((await infer('lin', rows([[1, 1]]), null)).status).toBe(401);
    // Refused by routing itself (a bad percent-encoding), before any route hook runs.
    expect((await infer('%zz', rows([[1, 1]]))).status).toBe(400);

    const requests = await samples(keel.url, 'keel_oip_requests_total');
    expect(requests.get('keel_oip_requests_total{model="lin",model_version="1",code="ok"}')).toBe(3);
    expect(requests.get('keel_oip_requests_total{model="lin",model_version="1",code="VALIDATION_FAILED"}')).toBe(1);
    const unresolved = [...requests].filter(([k]) => k.includes('model="(unresolved)"'));
    expect(Object.fromEntries(unresolved.map(([k, v]) => [/code="([^"]+)"/.exec(k)?.[1], v]))).toEqual({
      NOT_FOUND: 1,
      VALIDATION_FAILED: 1,
      MALFORMED_JSON: 1,
      UNAUTHENTICATED: 1,
      BAD_REQUEST: 1,
    });

    const seconds = await samples(keel.url, 'keel_oip_request_seconds_count');
    expect(seconds.get('keel_oip_request_seconds_count{model="lin",model_version="1"}')).toBe(3);
    // Every answered row went through a model run; concurrent requests may have shared one.
    const batchRows = await samples(keel.url, 'keel_oip_batch_rows_sum');
    expect(batchRows.get('keel_oip_batch_rows_sum{model="lin@1"}')).toBe(3);
    const runs = (await samples(keel.url, 'keel_oip_batch_rows_count')).get('keel_oip_batch_rows_count{model="lin@1"}');
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(3);
    expect((await samples(keel.url, 'keel_oip_queue_rows')).get('keel_oip_queue_rows{model="lin@1"}')).toBe(0);
  });
});
