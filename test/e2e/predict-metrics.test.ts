import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPredict, startLinearKeel } from '../helpers/serving-fixtures.ts';
import type { TestKeel } from '../helpers/test-keel.ts';

describe('predict metrics over HTTP', () => {
  let keel: TestKeel;
  let predictorKey: string;

  beforeAll(async () => {
    ({ keel, predictorKey } = await startLinearKeel());
  });
  afterAll(async () => keel?.dispose());

  const requests = async () =>
    (await (await fetch(`${keel.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('keel_predict_requests_total{'));

  it('counts every predict request by code, the ones refused before the service included, without a series per unknown name', async () => {
    expect((await postPredict(keel.url, predictorKey, 'lin', { record: { x: [1, 2] } })).status).toBe(200);
    // Refused by the route's schema, by the JSON parser, by the service (unknown deployment, bad field), by authentication.
    expect((await postPredict(keel.url, predictorKey, 'lin', { records: [] })).status).toBe(400);
    expect((await postPredict(keel.url, predictorKey, 'lin', '{')).status).toBe(400);
    expect((await postPredict(keel.url, predictorKey, 'nope', { record: { x: [1, 2] } })).status).toBe(404);
    expect((await postPredict(keel.url, predictorKey, 'made-up', { record: { x: [1, 2] } })).status).toBe(404);
    expect((await postPredict(keel.url, predictorKey, 'also-made-up', { records: [] })).status).toBe(400);
    expect((await postPredict(keel.url, predictorKey, 'lin', { record: { x: [1] } })).status).toBe(400);
    expect((await postPredict(keel.url, 'not-a-key', 'lin', { record: { x: [1, 2] } })).status).toBe(401);

    expect((await requests()).sort()).toEqual(
      [
        'keel_predict_requests_total{deployment="lin",model_version="1",code="ok"} 1',
        'keel_predict_requests_total{deployment="lin",model_version="",code="VALIDATION_FAILED"} 1',
        'keel_predict_requests_total{deployment="lin",model_version="",code="MALFORMED_JSON"} 1',
        'keel_predict_requests_total{deployment="(unresolved)",model_version="",code="NOT_FOUND"} 2',
        'keel_predict_requests_total{deployment="(unresolved)",model_version="",code="VALIDATION_FAILED"} 1',
        'keel_predict_requests_total{deployment="lin",model_version="1",code="VALIDATION_FAILED"} 1',
        'keel_predict_requests_total{deployment="lin",model_version="",code="UNAUTHENTICATED"} 1',
      ].sort(),
    );
  });

  it('times every stage per deployment and model version, queue and inference apart', async () => {
    expect((await postPredict(keel.url, predictorKey, 'lin', { record: { x: [3, 4] } })).status).toBe(200);
    const text = await (await fetch(`${keel.url}/metrics`)).text();
    for (const stage of ['features', 'queue', 'inference', 'total']) {
      expect(text).toMatch(
        new RegExp(`keel_predict_stage_seconds_count\\{deployment="lin",model_version="1",stage="${stage}"\\} [1-9]`),
      );
    }
  });
});
