import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient } from '../../src/client/index.ts';
import { buildOnnxModel } from '../../src/registry/index.ts';
import { featureDefinitions } from '../helpers/api-fixtures.ts';
import { redisSkipReason } from '../helpers/redis.ts';
import { freePort } from '../helpers/server-process.ts';
import { postPredict } from '../helpers/serving-fixtures.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const skip = await redisSkipReason();

/** A redis-server of the test's own on its own port, so stopping it disturbs nobody else. */
async function ownRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      (e: { cause?: { code?: string } }) => e.cause?.code !== 'ECONNREFUSED',
    );
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

const stopped = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())));

describe.skipIf(skip !== null)('the online store (Redis) going down under load', () => {
  let keel: TestKeel;
  let redis: ChildProcess;
  let port: number;
  let predictorKey: string;

  beforeAll(async () => {
    port = await freePort();
    redis = await ownRedis(port);
    keel = await startTestKeel({
      overrides: {
        onlineStore: { driver: 'redis', url: `redis://127.0.0.1:${port}`, keyPrefix: 'keel-outage:' },
        serving: { featureTimeoutMs: 200, breakerThreshold: 3, breakerHalfOpenMs: 500 },
      },
    });
    const admin = new KeelClient({ url: keel.url, apiKey: keel.adminKey as string });
    await admin.features.apply(await featureDefinitions());
    let job = await admin.features.materialize({ start: 0, end: Date.UTC(2001, 0, 2) });
    while (job.status === 'running') job = await admin.features.job(job.id);
    // A model of one feature: prediction = route_stats__delay.
    const onnx = buildOnnxModel({
      inputs: [{ name: 'route_stats__delay', dtype: 'float32', shape: ['batch', 1] }],
      outputs: [{ name: 'prediction', dtype: 'float32', shape: ['batch', 1] }],
      nodes: [{ opType: 'Identity', inputs: ['route_stats__delay'], outputs: ['prediction'] }],
    });
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const file = `${await mkdtemp('/tmp/keel-outage-')}/m.onnx`;
    await writeFile(file, onnx);
    const v = await admin.registerModel({ name: 'delay-echo', file });
    await admin.deployments.deploy('echo', {
      model: 'delay-echo',
      ref: { version: v.version },
      options: { featureService: 'svc', featureDefaults: { route_stats__delay: -1 } },
    });
    predictorKey = (await admin.createKey({ role: 'predictor', name: 'gateway' })).key;
  }, 120_000);
  afterAll(async () => {
    await keel?.dispose();
    redis?.kill('SIGKILL');
  });

  const predict = async (origin: string, destination: string) => {
    const res = await postPredict(keel.url, predictorKey, 'echo', { record: { origin, destination } });
    return {
      status: res.status,
      body: (await res.json()) as { predictions: number[]; degraded: boolean; feature_status: Record<string, string>[] },
    };
  };

  it('serves degraded (last known, then declared defaults) with no 5xx, and recovers when Redis returns', async () => {
    const before = await predict('ATL', 'ORD');
    expect(before.body).toMatchObject({ predictions: [7], degraded: false });

    redis.kill('SIGTERM');
    await stopped(redis);
    const during = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? predict('ATL', 'ORD') : predict('SFO', 'LAX'))),
    );
    expect(during.map((r) => r.status)).toEqual(during.map(() => 200));
    expect(during.every((r) => r.body.degraded)).toBe(true);
    // ATL→ORD was read before: its last known value; SFO→LAX never was: the declared default.
    expect(during.find((r) => r.body.feature_status[0]?.route_stats__delay === 'LAST_KNOWN')?.body.predictions).toEqual([7]);
    expect(during.find((r) => r.body.feature_status[0]?.route_stats__delay === 'DEFAULT')?.body.predictions).toEqual([-1]);
    const metrics = await (await fetch(`${keel.url}/metrics`)).text();
    expect(metrics).toMatch(
      /keel_predict_degraded_total\{deployment="echo",model_version="\d+",reason="store_unavailable"\} [1-9]/,
    );

    redis = await ownRedis(port);
    // The restarted Redis is empty (no persistence): recovery shows as non-degraded NOT_FOUND reads.
    let after = await predict('ATL', 'ORD');
    for (let i = 0; i < 200 && after.body.degraded; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await predict('ATL', 'ORD');
    }
    expect(after.status).toBe(200);
    expect(after.body.degraded).toBe(false);
    expect(after.body.feature_status[0]?.route_stats__delay).toBe('NOT_FOUND');
  }, 120_000);
});
