import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient } from '../../src/client/index.ts';
import { createAnalyticsEngine } from '../../src/storage/index.ts';
import { runCli } from '../helpers/cli.ts';
import { setUpFlightsPipeline, threeWeekParams, writeThreeWeeks } from '../helpers/flights-pipeline.ts';
import { postPredict } from '../helpers/serving-fixtures.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

/**
 * The feature-aware predict API end to end: a GBDT trained by the flights pipeline, features
 * materialized into the embedded online store, a deployment following the `candidate` alias.
 */
describe('POST /v1/deployments/{name}/predict', () => {
  let keel: TestKeel;
  let admin: KeelClient;
  let predictorKey: string;
  let viewerKey: string;
  let version: number;

  const predict = async (body: unknown, key = predictorKey, name = 'delay') => {
    const res = await postPredict(keel.url, key, name, body);
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } },
    };
  };
  const flight = (origin: string, destination: string, at = '2001-01-21T17:30:00Z') => ({
    origin,
    destination,
    event_timestamp: at,
  });

  beforeAll(async () => {
    keel = await startTestKeel();
    admin = new KeelClient({ url: keel.url, apiKey: keel.adminKey as string });
    await setUpFlightsPipeline(admin, await writeThreeWeeks(keel.dataDir));
    const run = await admin.pipelines.wait(
      (await admin.pipelines.run('flights', { params: { ...threeWeekParams, num_trees: 30 } })).id,
      {
        intervalMs: 300,
      },
    );
    if (run.status !== 'succeeded') throw new Error(`pipeline failed: ${run.error}`);
    version = run.steps.find((s) => s.step === 'register')?.outputs?.values.version as number;
    let job = await admin.features.materialize({ start: Date.UTC(2001, 0, 1), end: Date.UTC(2001, 0, 22) });
    while (job.status === 'running') job = await admin.features.job(job.id);
    await admin.deployments.deploy('delay', { model: 'flights-delay', ref: { alias: 'candidate' }, reason: 'first' });
    predictorKey = (await admin.createKey({ role: 'predictor', name: 'gateway' })).key;
    viewerKey = (await admin.createKey({ role: 'viewer', name: 'viewer' })).key;
  }, 600_000);
  afterAll(async () => keel?.dispose());

  it('reads the features online, runs the model and answers with predictions, probabilities and statuses', async () => {
    const res = await predict({ record: flight('ATL', 'ORD') });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model: { name: 'flights-delay', version }, degraded: false });
    const [p] = res.body.probabilities as number[];
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    expect(res.body.predictions).toEqual([(p as number) >= 0.5 ? 1 : 0]);
    const [status] = res.body.feature_status as Record<string, string>[];
    expect(status?.origin_delays__delay_mean_24h).toBe('PRESENT');
    // The route view's 30-day TTL counts from now: 2001 values are withheld, as Feast does online.
    expect(status?.route_profile__distance).toBe('OUTSIDE_MAX_AGE');
    expect(status?.hour).toBe('PRESENT');
  });

  it('answers a batch in order, the same as one record at a time', async () => {
    const records = [flight('ATL', 'ORD'), flight('ORD', 'LGA', '2001-01-21T08:00:00Z'), flight('DFW', 'LAX')];
    const batch = await predict({ records });
    expect(batch.status).toBe(200);
    const one = await Promise.all(records.map((r) => predict({ record: r })));
    expect(batch.body.probabilities).toEqual(one.map((o) => (o.body.probabilities as number[])[0]));
  });

  it('logs every prediction durably, and a replay from the log matches exactly', async () => {
    const res = await predict({ record: flight('LAX', 'SFO') });
    const id = res.body.request_id as string;
    const replay = await admin.replayPrediction(id);
    expect(replay).toMatchObject({ request_id: id, matches: true, model: { name: 'flights-delay', version } });
    const q = await admin.queryInferenceLog(`SELECT count(*) AS n FROM inference_log WHERE request_id = '${id}'`);
    expect(q.rows).toEqual([{ n: 1 }]);
  });

  it('refuses bad records with a 400 naming every offending field', async () => {
    const res = await predict({
      records: [{ origin: 'ATL', destination: 7, event_timestamp: '2001-01-21T10:00:00Z' }, flight('ATL', 'ORD')],
    });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('VALIDATION_FAILED');
    expect(res.body.error?.message).toMatch(/records\[0\]\.destination must be a string/);
    for (const body of [
      {},
      { record: flight('A', 'B'), records: [] },
      { records: [] },
      { record: 'x' },
      { record: {}, parameters: { timeout: -1 } },
    ]) {
      const bad = await predict(body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('answers 404 for an unknown deployment and 403 to keys that may not predict', async () => {
    expect((await predict({ record: flight('ATL', 'ORD') }, predictorKey, 'nope')).status).toBe(404);
    const viewer = await predict({ record: flight('ATL', 'ORD') }, viewerKey);
    expect(viewer.status).toBe(403);
    expect((await predict({ record: flight('ATL', 'ORD') }, 'keel_not-a-key')).status).toBe(401);
  });

  it('switches a deployment at once and rolls it back', async () => {
    const pinned = await admin.deployments.deploy('delay', {
      model: 'flights-delay',
      ref: { version },
      options: { timeoutMs: 5000 },
    });
    expect(pinned.revision).toBe(2);
    expect((await predict({ record: flight('ATL', 'ORD') })).status).toBe(200);
    const back = await admin.deployments.rollback('delay');
    expect(back.revision).toBe(3);
    // Revision 1 followed `candidate`: rollback pins the version it served, with its options.
    expect(back).toMatchObject({ version, spec: { ref: { version }, options: { timeoutMs: 2000 } } });
    const shown = await admin.deployments.get('delay');
    expect(shown.revisions?.map((r) => r.reason)).toEqual(['rollback to revision 1', '', 'first']);
    await expect(admin.deployments.deploy('delay', { model: 'flights-delay', ref: { version: 999 } })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('works from the CLI: predict, replay, logs query', async () => {
    const env = { url: keel.url, key: predictorKey };
    const res = await runCli(
      ['predict', 'delay', '--data', JSON.stringify([flight('ATL', 'ORD'), flight('DFW', 'LAX')]), '--json'],
      env,
    );
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout);
    expect(body.predictions).toHaveLength(2);
    const adminEnv = { url: keel.url, key: keel.adminKey as string };
    const replay = await runCli(['replay', `${body.request_id}.1`], adminEnv);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/matches\s+true/);
    const query = await runCli(
      ['logs', 'query', 'SELECT deployment, count(*) AS n FROM inference_log GROUP BY 1', '--json'],
      adminEnv,
    );
    expect(JSON.parse(query.stdout).rows[0]).toMatchObject({ deployment: 'delay' });
    const refused = await runCli(['logs', 'query', 'DELETE FROM inference_log'], adminEnv);
    expect(refused.code).toBe(2);
    expect((await runCli(['predict', 'delay', '--data', 'not json'], env)).code).toBe(2);
  });

  it('scores a Parquet file in batch through the same path (keel score), rows in order, a bad row marked', async () => {
    const engine = await createAnalyticsEngine({ threads: 1 });
    try {
      const input = join(keel.dataDir, 'to-score.parquet');
      const output = join(keel.dataDir, 'scored.parquet');
      // Row 600 has no origin (a join key of the feature service): that row fails, not the job.
      await engine.run(`COPY (SELECT CASE WHEN n = 600 THEN NULL ELSE origin END AS origin, destination, event_timestamp, delay
        FROM (SELECT origin, destination, date AS event_timestamp, delay, row_number() OVER (ORDER BY date, origin, destination) - 1 AS n
          FROM read_parquet('${join(keel.dataDir, 'imports', 'flights-jan.parquet')}') WHERE date >= '2001-01-21')
        WHERE n < 1200 ORDER BY n) TO '${input}' (FORMAT parquet)`);
      const res = await runCli(
        ['score', '--deployment', 'delay', '--input', input, '--output', output, '--json'],
        { url: keel.url, key: predictorKey },
        120_000,
      );
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({
        rows: 1200,
        scored: 1199,
        failed: 1,
        errors: [{ row: 600, code: 'VALIDATION_FAILED' }],
      });
      const scored = await engine.all<{
        origin: string | null;
        destination: string;
        event_timestamp: Date;
        probability: number | null;
        error: { code: string; message: string } | null;
      }>(`SELECT origin, destination, event_timestamp, probability, error FROM read_parquet('${output}')`);
      expect(scored).toHaveLength(1200);
      expect(scored[600]).toMatchObject({ origin: null, probability: null, error: { code: 'VALIDATION_FAILED' } });
      expect(scored[600]?.error?.message).toMatch(/^origin /);
      expect(scored.filter((r) => r.error !== null)).toHaveLength(1);
      for (const i of [0, 599, 601, 1199]) {
        const row = scored[i] as (typeof scored)[number];
        const online = await predict({
          record: flight(row.origin as string, row.destination, row.event_timestamp.toISOString()),
        });
        expect(row.probability).toBeCloseTo((online.body.probabilities as number[])[0] as number, 6);
      }
    } finally {
      await engine.close();
    }
  }, 180_000);
});
