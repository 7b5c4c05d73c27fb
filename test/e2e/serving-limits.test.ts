import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeelClient } from '../../src/client/index.ts';
import { postPredict, startLinearKeel } from '../helpers/serving-fixtures.ts';
import type { TestKeel } from '../helpers/test-keel.ts';

describe('predict limits: rate limits and load shedding', () => {
  let keel: TestKeel;
  let admin: KeelClient;
  let predictorKey: string;

  beforeAll(async () => {
    ({ keel, admin, predictorKey } = await startLinearKeel());
  });
  afterAll(async () => keel?.dispose());

  const predict = (records: unknown[]) => postPredict(keel.url, predictorKey, 'lin', { records });

  it('answers 429 with Retry-After past a key’s token bucket', async () => {
    await admin.deployments.deploy('lin', {
      model: 'lin',
      ref: { alias: 'champion' },
      options: { rateLimit: { perSecond: 0.5, burst: 2 } },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await predict([{ x: [1, 2] }]));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    const limited = statuses[2] as Response;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
  });

  it('sheds load with 503 OVERLOADED and Retry-After when the queue is full, and never fails otherwise', async () => {
    await admin.deployments.deploy('lin', {
      model: 'lin',
      ref: { alias: 'champion' },
      options: { batching: { maxBatchRows: 1, maxQueueDelayMs: 0, maxQueueRows: 2 } },
    });
    const rows = Array.from({ length: 2 }, (_, i) => ({ x: [i, 1] }));
    const answers = await Promise.all(Array.from({ length: 40 }, () => predict(rows)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    const shed = answers.find((r) => r.status === 503) as Response;
    expect(shed.headers.get('retry-after')).not.toBeNull();
    expect(((await shed.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
  });

  it('drops the queued work of a client that disconnects, counted as CLIENT_CLOSED, and answers the others', async () => {
    await admin.deployments.deploy('lin', {
      model: 'lin',
      ref: { alias: 'champion' },
      options: { batching: { maxBatchRows: 1, maxQueueDelayMs: 0, maxQueueRows: 100_000 } },
    });
    const metrics = async () => (await fetch(`${keel.url}/metrics`)).text();
    const gauge = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const closedBefore = gauge(await metrics(), /keel_predict_requests_total\{[^}]*code="CLIENT_CLOSED"[^}]*\} (\d+)/);
    // One row per model call: a request of 2,000 rows keeps the model busy while the next one queues.
    const first = predict(Array.from({ length: 2000 }, (_, i) => ({ x: [i, 1] })));
    const client = new AbortController();
    const gone = fetch(`${keel.url}/v1/deployments/lin/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${predictorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: Array.from({ length: 5000 }, (_, i) => ({ x: [1, i] })) }),
      signal: client.signal,
    }).catch((e: unknown) => e);
    // More rows queued than the first request has: the second one is in the queue.
    for (;;) {
      if (gauge(await metrics(), /keel_predict_queue_rows\{model="lin@1"\} (\d+)/) > 2000) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    client.abort();
    expect(await gone).toMatchObject({ name: 'AbortError' });
    const answered = await first;
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { predictions: unknown[] }).predictions).toHaveLength(2000);
    for (;;) {
      const text = await metrics();
      if (gauge(text, /keel_predict_requests_total\{[^}]*code="CLIENT_CLOSED"[^}]*\} (\d+)/) > closedBefore) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    // The model ran far fewer rows than the two requests held: the abandoned one was dropped, not run.
    const text = await metrics();
    expect(gauge(text, /keel_predict_queue_rows\{model="lin@1"\} (\d+)/)).toBe(0);
    expect(gauge(text, /keel_predict_batch_rows_sum\{model="lin@1"\} (\d+)/)).toBeLessThan(2000 + 5000);
  });
});

describe('the prediction cache', () => {
  let keel: TestKeel;
  let predictorKey: string;

  beforeAll(async () => {
    let admin: KeelClient;
    ({ keel, admin, predictorKey } = await startLinearKeel());
    await admin.deployments.deploy('lin', { model: 'lin', ref: { alias: 'champion' }, options: { cache: { enabled: true } } });
  });
  afterAll(async () => keel?.dispose());

  const modelCalls = async () => {
    const text = await (await fetch(`${keel.url}/metrics`)).text();
    return Number(/keel_predict_batch_rows_count\{model="lin@1"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const predict = async (x: number[]) =>
    (await (await postPredict(keel.url, predictorKey, 'lin', { record: { x } })).json()) as { probabilities: number[] };

  it('answers a repeated input from the cache, with the same answer, and computes new inputs', async () => {
    const first = await predict([3, 4]);
    const calls = await modelCalls();
    expect(calls).toBeGreaterThan(0);
    expect(await predict([3, 4])).toMatchObject({ probabilities: first.probabilities });
    expect(await modelCalls()).toBe(calls);
    await predict([4, 3]);
    expect(await modelCalls()).toBe(calls + 1);
  });
});
