import { beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/core/index.ts';
import type { Artifact, Experiment, Metric, Run, RunStore } from '../../src/tracking/index.ts';
import { describeEachBackend } from '../helpers/sql-backends.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

describeEachBackend('tracking stores', (backend) => {
  let experiment: Experiment;

  beforeAll(async () => {
    const { projects, experiments } = backend().stores;
    for (const id of ['prj_t1', 'prj_t2']) {
      await projects.create({ id, name: id, description: '', createdAt: 0, createdBy: 'system' });
    }
    experiment = { id: 'exp_main', projectId: 'prj_t1', name: 'main', description: '', createdAt: 1, createdBy: 'system' };
    await experiments.create(experiment);
  });

  async function newRun(over: Partial<Run> = {}): Promise<Run> {
    const run: Run = {
      id: newId('run'),
      projectId: 'prj_t1',
      experimentId: experiment.id,
      name: 'r',
      status: 'RUNNING',
      startTime: 1000,
      endTime: null,
      createdBy: 'key_a',
      codeVersion: null,
      parentRunId: null,
      ...over,
    };
    await backend().stores.runs.create(run);
    return run;
  }

  const runs = (): RunStore => backend().stores.runs;

  it('keeps experiment names unique per project and lists them by name', async () => {
    const { experiments } = backend().stores;
    const exp = (id: string, projectId: string, name: string): Experiment => ({
      id,
      projectId,
      name,
      description: `about ${name}`,
      createdAt: 5,
      createdBy: 'key_a',
    });
    await experiments.create(exp('exp_b1', 'prj_t1', 'b-team'));
    await experiments.create(exp('exp_b2', 'prj_t2', 'b-team'));
    await experiments.create(exp('exp_u2', 'prj_t2', 'B_team'));
    await expect(experiments.create(exp('exp_dup', 'prj_t1', 'b-team'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await experiments.get('exp_dup')).toBeNull();
    expect(await experiments.getByName('prj_t2', 'b-team')).toEqual(exp('exp_b2', 'prj_t2', 'b-team'));
    expect(await experiments.getByName('prj_t2', 'main')).toBeNull();
    expect((await experiments.list(['prj_t2'])).map((e) => e.id)).toEqual(['exp_u2', 'exp_b2']);
    expect((await experiments.list([])).map((e) => e.id)).toEqual([]);
    expect((await experiments.list('*')).map((e) => e.id)).toEqual(['exp_u2', 'exp_b1', 'exp_b2', 'exp_main']);
  });

  it('creates runs, reads them back and sets their status', async () => {
    const run = await newRun({ name: 'first', codeVersion: 'abc123', startTime: 4242 });
    const child = await newRun({ parentRunId: run.id });
    expect(await runs().get(run.id)).toEqual(run);
    expect(await runs().getWithData(child.id)).toEqual({ ...child, params: [], tags: [], metrics: [], inputs: [] });
    expect(await runs().get('run_missing')).toBeNull();
    expect(await runs().getWithData('run_missing')).toBeNull();
    await runs().setStatus(run.id, 'FINISHED', 5000);
    expect(await runs().get(run.id)).toEqual({ ...run, status: 'FINISHED', endTime: 5000 });
    await runs().setStatus(run.id, 'RUNNING', null);
    expect(await runs().get(run.id)).toEqual({ ...run, status: 'RUNNING', endTime: null });
  });

  it('accepts a param again with the same value and rejects a change without writing any of the batch', async () => {
    const run = await newRun();
    await runs().logParams(run.id, [
      { key: 'lr', value: '0.1' },
      { key: 'Depth', value: '3' },
    ]);
    await runs().logParams(run.id, [{ key: 'lr', value: '0.1' }]);
    await runs().logParams(run.id, []);
    const e = await runs()
      .logParams(run.id, [
        { key: 'batch', value: '32' },
        { key: 'lr', value: '0.2' },
      ])
      .catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'PARAM_CONFLICT', details: [{ key: 'lr', existing: '0.1', attempted: '0.2' }] });
    expect((await runs().getWithData(run.id))?.params).toEqual([
      { key: 'Depth', value: '3' },
      { key: 'lr', value: '0.1' },
    ]);
  });

  it('orders metric history by step then timestamp and keeps the latest point per key', async () => {
    const run = await newRun();
    const m = (key: string, value: number, step: number, timestamp: number): Metric => ({ key, value, step, timestamp });
    await runs().logMetrics(run.id, [m('loss', 0.9, 5, 100), m('loss', 1.5, 1, 300), m('acc', 0.5, 0, 10)]);
    // An older step arriving later does not replace the latest.
    await runs().logMetrics(run.id, [m('loss', 0.1, 3, 999)]);
    expect((await runs().getWithData(run.id))?.metrics).toEqual([m('acc', 0.5, 0, 10), m('loss', 0.9, 5, 100)]);
    // Same step, later timestamp wins; then on equal step and timestamp the larger value.
    await runs().logMetrics(run.id, [m('loss', 0.7, 5, 200)]);
    await runs().logMetrics(run.id, [m('loss', 0.6, 5, 200)]);
    expect((await runs().getWithData(run.id))?.metrics).toContainEqual(m('loss', 0.7, 5, 200));
    await runs().logMetrics(run.id, [m('loss', 0.8, 5, 200)]);
    // Duplicates of one key inside one batch, in an order where the winner is neither first nor last.
    await runs().logMetrics(run.id, [m('acc', 0.2, 7, 1), m('acc', 0.4, 7, 1), m('acc', 0.3, 7, 1), m('acc', 0.9, 6, 50)]);
    expect((await runs().getWithData(run.id))?.metrics).toEqual([m('acc', 0.4, 7, 1), m('loss', 0.8, 5, 200)]);

    expect(await runs().metricHistory(run.id, 'loss', 100, 0)).toEqual([
      m('loss', 1.5, 1, 300),
      m('loss', 0.1, 3, 999),
      m('loss', 0.9, 5, 100),
      m('loss', 0.6, 5, 200),
      m('loss', 0.7, 5, 200),
      m('loss', 0.8, 5, 200),
    ]);
    expect(await runs().metricHistory(run.id, 'missing', 100, 0)).toEqual([]);
  });

  it('pages metric history with limit and offset', async () => {
    const run = await newRun();
    const points = Array.from({ length: 23 }, (_, i) => ({ key: 'val.loss', value: 1 / (i + 1), step: 22 - i, timestamp: i }));
    await runs().logMetrics(run.id, points.slice(0, 10));
    await runs().logMetrics(run.id, points.slice(10));
    const sorted = [...points].sort((a, b) => a.step - b.step);
    const paged: Metric[] = [];
    for (let offset = 0; offset < 30; offset += 4) paged.push(...(await runs().metricHistory(run.id, 'val.loss', 4, offset)));
    expect(paged).toEqual(sorted);
    expect(await runs().metricHistory(run.id, 'val.loss', 4, 23)).toEqual([]);
  });

  it('upserts and deletes tags', async () => {
    const run = await newRun();
    await runs().setTags(run.id, [
      { key: 'team', value: 'a' },
      { key: 'Owner', value: 'x' },
      { key: 'team', value: 'b' },
    ]);
    await runs().setTags(run.id, [{ key: 'note', value: '' }]);
    await runs().setTags(run.id, [{ key: 'Owner', value: 'y' }]);
    expect((await runs().getWithData(run.id))?.tags).toEqual([
      { key: 'Owner', value: 'y' },
      { key: 'note', value: '' },
      { key: 'team', value: 'b' },
    ]);
    expect(await runs().deleteTag(run.id, 'team')).toBe(true);
    expect(await runs().deleteTag(run.id, 'team')).toBe(false);
    expect(await runs().deleteTag(run.id, 'never')).toBe(false);
    expect((await runs().getWithData(run.id))?.tags.map((t) => t.key)).toEqual(['Owner', 'note']);
  });

  it('deduplicates inputs by digest, keeping the first', async () => {
    const run = await newRun();
    await runs().addInputs(run.id, [
      { digest: digest('b'), name: 'train', context: 'training' },
      { digest: digest('a'), name: 'eval', context: 'evaluation' },
      { digest: digest('b'), name: 'again', context: 'training' },
    ]);
    await runs().addInputs(run.id, [{ digest: digest('a'), name: 'renamed', context: 'other' }]);
    expect((await runs().getWithData(run.id))?.inputs).toEqual([
      { digest: digest('a'), name: 'eval', context: 'evaluation' },
      { digest: digest('b'), name: 'train', context: 'training' },
    ]);
  });

  it('puts, overwrites, gets and lists artifacts by a literal prefix', async () => {
    const run = await newRun();
    const other = await newRun();
    const art = (path: string, c: string, size = 1): Artifact => ({ path, digest: digest(c), size, createdAt: 7 });
    const paths = ['a/x.txt', 'a/sub/q', 'a_b/y', 'a%b/z', 'axb/w', 'a-b/v', 'A/up', 'a.txt', 'ab', '📊/plot.png', '📊x/no'];
    for (const path of paths) await runs().putArtifact(run.id, art(path, 'c'));
    await runs().putArtifact(other.id, art('a/x.txt', 'd'));
    await runs().putArtifact(run.id, art('a/x.txt', 'e', 99));

    expect(await runs().getArtifact(run.id, 'a/x.txt')).toEqual(art('a/x.txt', 'e', 99));
    expect(await runs().getArtifact(other.id, 'a/x.txt')).toEqual(art('a/x.txt', 'd'));
    expect(await runs().getArtifact(run.id, 'a/missing')).toBeNull();

    const list = async (prefix: string) => (await runs().listArtifacts(run.id, prefix)).map((a) => a.path);
    // Paths sort bytewise on every backend.
    expect(await list('')).toEqual([...paths].sort((x, y) => (x < y ? -1 : 1)));
    expect(await list('a/')).toEqual(['a/sub/q', 'a/x.txt']);
    expect(await list('a_')).toEqual(['a_b/y']);
    expect(await list('a%')).toEqual(['a%b/z']);
    expect(await list('📊/')).toEqual(['📊/plot.png']);
    expect(await list('nothing/')).toEqual([]);
    expect((await runs().listArtifacts(run.id, 'a/'))[1]).toEqual(art('a/x.txt', 'e', 99));
  });
});
