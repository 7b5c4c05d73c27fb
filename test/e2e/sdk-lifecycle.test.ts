import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelApiError, KeelClient } from '../../src/client/index.ts';
import { buildLinearModel } from '../../src/registry/index.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The acceptance flow, through the SDK only: experiment → run → metrics → model → aliases → audit. */
describe('SDK: from a run to a champion model, with history and audit', () => {
  let keel: TestKeel;
  let admin: KeelClient;
  let dir: string;
  beforeAll(async () => {
    keel = await startTestKeel();
    admin = new KeelClient({ url: keel.url, apiKey: keel.adminKey ?? '' });
    dir = await mkdtemp(join(tmpdir(), 'keel-sdk-'));
  });
  afterAll(async () => keel.dispose());

  it('tracks, registers, promotes and audits', async () => {
    const scientistKey = await admin.createKey({ role: 'scientist', name: 'trainer' });
    const deployerKey = await admin.createKey({ role: 'deployer', name: 'release-bot' });
    const scientist = new KeelClient({ url: keel.url, apiKey: scientistKey.key });
    const deployer = new KeelClient({ url: keel.url, apiKey: deployerKey.key });

    const run = await scientist.startRun({
      experiment: 'flights-delay',
      params: { lr: 0.1, depth: 6, model: 'logreg' },
      tags: { team: 'ml' },
      inputs: [{ digest: `sha256:${'a'.repeat(64)}`, name: 'flights-2001-01', context: 'training' }],
      codeVersion: 'abc123',
    });
    // 10,000 points over 2 keys: the SDK batches them (≤1000 per request) and flushes on end().
    for (let step = 0; step < 5000; step++) {
      run.logMetric('loss', 1 / (step + 1), step);
      run.logMetric('auc', 0.5 + step / 10000, step);
    }
    const weights = [0.4, -0.2, 0.1];
    const modelPath = join(dir, 'model.onnx');
    const bytes = buildLinearModel({ features: 3, weights, bias: 0.05, sigmoid: true });
    await writeFile(modelPath, bytes);
    const artifact = await run.logArtifact(modelPath, 'model/model.onnx');
    expect(artifact.size).toBe(bytes.length);
    const ended = await run.end();
    expect(ended.status).toBe('FINISHED');
    expect(ended.endTime).not.toBeNull();

    const history = await scientist.http.json<{ metrics: { step: number; value: number }[] }>(
      'GET',
      `api/v1/runs/${run.id}/metrics/loss`,
    );
    expect(history.metrics).toHaveLength(5000);
    expect(history.metrics.map((m) => m.step)).toEqual([...Array(5000).keys()]);
    const shown = await scientist.getRun(run.id);
    expect(shown.metrics.find((m) => m.key === 'auc')?.value).toBeCloseTo(0.5 + 4999 / 10000, 12);
    expect(shown.params).toEqual([
      { key: 'depth', value: '6' },
      { key: 'lr', value: '0.1' },
      { key: 'model', value: 'logreg' },
    ]);
    expect(shown.codeVersion).toBe('abc123');
    const found = await scientist.searchRuns({ filter: "metrics.auc > 0.9 and params.model = 'logreg' and tags.team = 'ml'" });
    expect(found.runs.map((r) => r.id)).toEqual([run.id]);

    // Register from the run's artifact: lineage comes from the run.
    const v1 = await scientist.registerModel({ name: 'delay', run: { runId: run.id, path: 'model/model.onnx' } });
    expect(v1.version).toBe(1);
    expect(v1.manifest.lineage).toMatchObject({
      runId: run.id,
      codeVersion: 'abc123',
      datasetDigests: [`sha256:${'a'.repeat(64)}`],
    });
    expect(v1.manifest.signature.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
    expect(v1.manifest.metrics.auc).toBeCloseTo(0.9999, 6);
    // And directly from a file.
    const v2 = await scientist.registerModel({
      name: 'delay',
      file: modelPath,
      metrics: { auc: 0.97 },
      description: 'retrained',
    });
    expect(v2.version).toBe(2);

    // The stored bytes run in ONNX Runtime and give the model's own predictions.
    const stored = await scientist.http.request('GET', 'api/v1/models/delay/versions/2/artifact', {
      query: { project: 'default' },
    });
    const session = await ort.InferenceSession.create(new Uint8Array(await stored.arrayBuffer()));
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]);
    const out = await session.run({ x });
    const y = out[session.outputNames[0] as string]?.data[0] as number;
    expect(y).toBeCloseTo(1 / (1 + Math.exp(-(0.4 - 0.4 + 0.3 + 0.05))), 5);

    // A scientist may not move aliases; a deployer may.
    await expect(scientist.setAlias({ model: 'delay', alias: 'champion', version: 1 })).rejects.toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    });
    const first = await deployer.setAlias({ model: 'delay', alias: 'champion', version: 1, reason: 'first release' });
    await sleep(5);
    const between = Date.now();
    await sleep(5);
    const second = await deployer.setAlias({ model: 'delay', alias: 'champion', version: 2, reason: 'better auc' });
    expect(second.fromVersion).toBe(1);
    expect(second.toVersion).toBe(2);

    expect((await deployer.aliasAt('delay', 'champion', first.at - 1)).version).toBeNull();
    expect((await deployer.aliasAt('delay', 'champion', first.at)).version).toBe(1);
    expect((await deployer.aliasAt('delay', 'champion', between)).version).toBe(1);
    expect((await deployer.aliasAt('delay', 'champion', new Date(second.at).toISOString())).version).toBe(2);
    expect((await deployer.aliasAt('delay', 'champion')).version).toBe(2);
    const moves = (await deployer.aliasHistory('delay', 'champion')).moves;
    expect(moves.map((m) => [m.fromVersion, m.toVersion, m.actor, m.reason])).toEqual([
      [null, 1, deployerKey.id, 'first release'],
      [1, 2, deployerKey.id, 'better auc'],
    ]);
    expect((await deployer.getVersion('delay', 'champion')).version).toBe(2);

    // Every mutation is in the audit log with its actor.
    const events = (await admin.audit({ limit: 1000 })).events as { action: string; actor: string; resourceId: string }[];
    const actionsBy = (actor: string) => events.filter((e) => e.actor === actor).map((e) => e.action);
    expect(actionsBy(scientistKey.id)).toEqual(
      expect.arrayContaining([
        'experiment.create',
        'run.create',
        'run.log',
        'artifact.upload',
        'run.update',
        'model.create',
        'model.version.create',
      ]),
    );
    expect(actionsBy(scientistKey.id).filter((a) => a === 'model.version.create')).toHaveLength(2);
    // 10,000 points in batches of ≤1000 → at least 10 logged batches, each audited.
    expect(actionsBy(scientistKey.id).filter((a) => a === 'run.log').length).toBeGreaterThanOrEqual(10);
    expect(actionsBy(deployerKey.id)).toEqual(['model.alias.move', 'model.alias.move']);
    expect(actionsBy('system')).toContain('key.create');
    const filtered = await admin.audit({ actor: deployerKey.id, resource: v1.modelId });
    expect(filtered.events).toHaveLength(2);
    const failedMove = events.filter((e) => e.actor === scientistKey.id && e.action.startsWith('model.alias'));
    expect(failedMove).toHaveLength(0);

    // The downloaded artifact is byte-identical.
    const again = await scientist.http.request('GET', `api/v1/runs/${run.id}/artifacts/model/model.onnx`);
    expect(Buffer.from(await again.arrayBuffer()).equals(await readFile(modelPath))).toBe(true);
  });

  it('reports server errors as KeelApiError with stable codes', async () => {
    const err = await admin.getRun('run_doesnotexist').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeelApiError);
    expect((err as KeelApiError).code).toBe('NOT_FOUND');
    expect((err as KeelApiError).exitCode).toBe(5);
    const offline = new KeelClient({ url: 'http://127.0.0.1:1', apiKey: 'x' });
    await expect(offline.whoami()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
  });
});
