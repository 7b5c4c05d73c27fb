import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient, type PipelineRunView } from '../../src/client/index.ts';
import { setUpFlightsPipeline, stepMetrics, threeWeekParams, writeThreeWeeks } from '../helpers/flights-pipeline.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

/**
 * The flights reference pipeline end to end on three weeks of real flights (the full-scale run,
 * over 1M training rows, is `npm run bench -- flights-pipeline`).
 */
describe('the flights reference pipeline', () => {
  let keel: TestKeel;
  let client: KeelClient;
  let datasetDigest: string;
  let run: PipelineRunView;
  const params = { ...threeWeekParams, num_trees: 80 };

  beforeAll(async () => {
    keel = await startTestKeel();
    client = new KeelClient({ url: keel.url, apiKey: keel.adminKey as string });
    ({ datasetDigest } = await setUpFlightsPipeline(client, await writeThreeWeeks(keel.dataDir)));
    run = await client.pipelines.wait((await client.pipelines.run('flights', { params })).id, { intervalMs: 500 });
  }, 600_000);
  afterAll(async () => keel?.dispose());

  it('runs every step', () => {
    expect(run.error).toBeNull();
    expect(run.steps.filter((s) => s.status !== 'succeeded')).toEqual([]);
  });

  it('beats logistic regression and an hour-of-day model on the time-split test set', () => {
    const auc = {
      gbdt: stepMetrics(run, 'evaluate').auc as number,
      logreg: stepMetrics(run, 'evaluate_logreg').auc as number,
      hour: stepMetrics(run, 'evaluate_hour').auc as number,
    };
    process.stderr.write(`flights pipeline AUC on the test days: ${JSON.stringify(auc)}\n`);
    expect(auc.gbdt).toBeGreaterThan(auc.logreg);
    expect(auc.gbdt).toBeGreaterThan(auc.hour);
    expect(auc.hour).toBeGreaterThan(0.5);
    // Evaluated overall and per origin-airport group, with bootstrap intervals.
    const m = stepMetrics(run, 'evaluate');
    expect(m['segment.origin_group:hub.auc']).toBeGreaterThan(0.5);
    expect(m['segment.origin_group:other.auc']).toBeGreaterThan(0.5);
    expect(m['gap.origin_group.auc']).toBeGreaterThanOrEqual(0);
    expect(m.auc_ci_low).toBeLessThan(m.auc as number);
  });

  it('registers the model with lineage to the data digest, the feature service and the code version', async () => {
    const version = run.steps.find((s) => s.step === 'register')?.outputs?.values.version as number;
    const mv = await client.getVersion('flights-delay', version);
    expect(mv.manifest.lineage.datasetDigests).toContain(datasetDigest);
    expect(mv.manifest.lineage.featureService).toMatch(/^delay_model@\d+$/);
    expect(mv.manifest.lineage.codeVersion).toMatch(/^pipeline:flights@1$/);
    expect(mv.manifest.lineage.runId).toBe(run.trackingRunId);
    expect(mv.manifest.lineage.evalDatasetDigest).toMatch(/^sha256:/);
    expect(mv.manifest.metrics.auc).toBe(stepMetrics(run, 'evaluate').auc);
    expect(mv.manifest.signature.inputs.map((i) => i.name)).toContain('origin_delays__delay_mean_1h');
    const tracked = await client.getRun(run.trackingRunId as string);
    expect(tracked.inputs).toContainEqual(expect.objectContaining({ digest: datasetDigest, context: 'training' }));
    // The model's and the baselines' evaluate steps read the same test file, logged once under
    // whichever step got there first (they run concurrently), so the name is not asserted.
    expect(tracked.inputs).toContainEqual(
      expect.objectContaining({ digest: mv.manifest.lineage.evalDatasetDigest, context: 'evaluation' }),
    );
    const alias = await client.getVersion('flights-delay', 'candidate');
    expect(alias.version).toBe(version);
  });

  it('hits the cache on every step when run again', async () => {
    const again = await client.pipelines.wait((await client.pipelines.run('flights', { params })).id, { intervalMs: 200 });
    expect(again.steps.map((s) => s.status)).toEqual(again.steps.map(() => 'cached'));
  });

  it('stops at the gate when the promotion policy refuses the new version, without retrying', async () => {
    const before = await client.getVersion('flights-delay', 'candidate');
    await client.promotion.setPolicy(
      'flights-delay',
      'protected_aliases: [candidate]\nchecks:\n  metrics: { auc: { min: 0.99 } }\n',
    );
    const refused = await client.pipelines.wait(
      (await client.pipelines.run('flights', { params: { ...params, num_trees: 30 } })).id,
      {
        intervalMs: 200,
      },
    );
    expect(refused.status).toBe('failed');
    const promote = refused.steps.find((s) => s.step === 'promote');
    expect(promote).toMatchObject({ status: 'failed', attempts: 1 });
    expect(promote?.error).toMatch(/metrics\.auc/);
    expect(refused.steps.find((s) => s.step === 'register')?.status).toBe('succeeded');
    expect((await client.getVersion('flights-delay', 'candidate')).version).toBe(before.version);
  });
});
