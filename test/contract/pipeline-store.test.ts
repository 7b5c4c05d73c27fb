import { beforeAll, expect, it } from 'vitest';
import type { CacheEntry, PipelineDefinition, PipelineRun, PipelineStore, StepRun } from '../../src/pipelines/index.ts';
import { describeEachBackend } from '../helpers/sql-backends.ts';

const definition = (projectId: string, name: string, version: number): PipelineDefinition => ({
  projectId,
  name,
  version,
  spec: {
    name,
    description: 'd',
    params: { lr: 0.1, flag: true, note: 'é' },
    concurrency: 2,
    triggers: [{ cron: '0 3 * * *' }],
    steps: [{ name: 'a', kind: 'command', inputs: {}, needs: [], params: { run: ['true'] } }],
  },
  digest: `sha256:${String(version).padStart(64, '0')}`,
  baseDir: version % 2 ? '/tmp/x' : null,
  createdAt: 100 + version,
  createdBy: 'key_a',
});

const run = (id: string, projectId: string, createdAt: number, pipeline = 'p'): PipelineRun => ({
  id,
  projectId,
  pipeline,
  version: 1,
  status: 'running',
  params: { lr: 0.1 },
  trigger: 'manual',
  trackingRunId: null,
  error: null,
  createdAt,
  createdBy: 'key_a',
  finishedAt: null,
});

const step = (runId: string, name: string): StepRun => ({
  runId,
  step: name,
  status: 'pending',
  attempts: 0,
  cacheKey: null,
  explain: null,
  outputs: null,
  trackingRunId: null,
  error: null,
  startedAt: null,
  finishedAt: null,
});

const cache = (projectId: string, key: string, step: string, createdAt: number): CacheEntry => ({
  projectId,
  key,
  pipeline: 'p',
  step,
  parts: { code: 'command@1', params: { run: ['true'] }, inputs: { data: 'sha256:aa' } },
  outputs: {
    artifacts: { model: { digest: 'sha256:bb', bytes: 12, meta: { features: [{ name: 'x', kind: 'numeric' }] } } },
    values: { n: 1 },
  },
  runId: 'plr_1',
  createdAt,
});

describeEachBackend('pipeline store', (backend) => {
  let store: PipelineStore;

  beforeAll(async () => {
    for (const id of ['prj_p1', 'prj_p2']) {
      await backend().stores.projects.create({ id, name: id, description: '', createdAt: 0, createdBy: 'system' });
    }
    store = backend().stores.pipelines;
  });

  it('keeps definition versions and answers the latest of each pipeline', async () => {
    for (const v of [1, 2, 3]) await store.putDefinition(definition('prj_p1', 'flights', v));
    await store.putDefinition(definition('prj_p1', 'alpha', 1));
    await store.putDefinition(definition('prj_p2', 'flights', 1));
    await expect(store.putDefinition(definition('prj_p1', 'flights', 2))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await store.latestDefinition('prj_p1', 'flights')).toEqual(definition('prj_p1', 'flights', 3));
    expect(await store.getDefinition('prj_p1', 'flights', 2)).toEqual(definition('prj_p1', 'flights', 2));
    expect(await store.getDefinition('prj_p1', 'flights', 9)).toBeNull();
    expect((await store.listDefinitions('prj_p1')).map((d) => [d.name, d.version])).toEqual([
      ['alpha', 1],
      ['flights', 3],
    ]);
    expect((await store.listDefinitions(null)).map((d) => `${d.projectId}/${d.name}@${d.version}`)).toEqual([
      'prj_p1/alpha@1',
      'prj_p1/flights@3',
      'prj_p2/flights@1',
    ]);
  });

  it('stores runs with their steps in order, and updates them', async () => {
    await store.createRun(run('plr_a', 'prj_p1', 10), [step('plr_a', 'z-first'), step('plr_a', 'a-second')]);
    await store.createRun(run('plr_b', 'prj_p1', 20, 'q'), [step('plr_b', 'only')]);
    await store.createRun(run('plr_c', 'prj_p2', 30), []);
    expect((await store.getSteps('plr_a')).map((s) => s.step)).toEqual(['z-first', 'a-second']);
    await store.updateStep('plr_a', 'a-second', {
      status: 'succeeded',
      attempts: 2,
      cacheKey: 'sha256:cc',
      explain: 'miss: params changed (lr)',
      outputs: { artifacts: {}, values: { metrics: { auc: 0.75 } } },
      startedAt: 5,
      finishedAt: 9,
    });
    const [, second] = await store.getSteps('plr_a');
    expect(second).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      explain: 'miss: params changed (lr)',
      startedAt: 5,
      finishedAt: 9,
    });
    expect(second?.outputs?.values).toEqual({ metrics: { auc: 0.75 } });
    await store.updateRun('plr_a', { status: 'failed', error: 'boom', finishedAt: 99, trackingRunId: 'run_x' });
    expect(await store.getRun('plr_a')).toMatchObject({
      status: 'failed',
      error: 'boom',
      finishedAt: 99,
      trackingRunId: 'run_x',
      params: { lr: 0.1 },
    });
    expect(await store.getRun('plr_missing')).toBeNull();
    expect((await store.listRuns('prj_p1', null, 10)).map((r) => r.id)).toEqual(['plr_b', 'plr_a']);
    expect((await store.listRuns('prj_p1', 'p', 10)).map((r) => r.id)).toEqual(['plr_a']);
    expect((await store.listRuns('prj_p1', null, 1)).map((r) => r.id)).toEqual(['plr_b']);
    expect((await store.runsWithStatus('running')).map((r) => r.id).sort()).toEqual(['plr_b', 'plr_c']);
  });

  it('keeps the first cache entry for a key and finds the newest per step', async () => {
    await store.putCache(cache('prj_p1', 'sha256:k1', 'train', 1));
    await store.putCache({ ...cache('prj_p1', 'sha256:k1', 'train', 5), runId: 'plr_other' });
    await store.putCache(cache('prj_p1', 'sha256:k2', 'train', 3));
    await store.putCache(cache('prj_p2', 'sha256:k3', 'train', 7));
    expect(await store.getCache('prj_p1', 'sha256:k1')).toEqual(cache('prj_p1', 'sha256:k1', 'train', 1));
    expect(await store.getCache('prj_p2', 'sha256:k1')).toBeNull();
    expect((await store.lastCacheFor('prj_p1', 'p', 'train'))?.key).toBe('sha256:k2');
    expect(await store.lastCacheFor('prj_p1', 'p', 'evaluate')).toBeNull();
  });
});
