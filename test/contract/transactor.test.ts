import { beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/core/index.ts';
import type { Run } from '../../src/tracking/index.ts';
import { describeEachBackend } from '../helpers/sql-backends.ts';

const run = (id: string): Run => ({
  id,
  projectId: 'prj_tx',
  experimentId: 'exp_tx',
  name: id,
  status: 'RUNNING',
  startTime: 1,
  endTime: null,
  createdBy: 'key_a',
  codeVersion: null,
  parentRunId: null,
});

const auditEvent = (resourceId: string) => ({
  id: newId('audit'),
  at: 1,
  actor: 'key_tx',
  action: 'run.create',
  resourceType: 'run',
  resourceId,
  projectId: 'prj_tx',
  before: null,
  after: null,
});

describeEachBackend('transactor', (backend) => {
  beforeAll(async () => {
    const { projects, experiments } = backend().stores;
    await projects.create({ id: 'prj_tx', name: 'tx', description: '', createdAt: 0, createdBy: 'system' });
    await experiments.create({
      id: 'exp_tx',
      projectId: 'prj_tx',
      name: 'tx',
      description: '',
      createdAt: 0,
      createdBy: 'system',
    });
  });

  it('rolls back every store written inside a transaction that throws', async () => {
    const { tx, stores } = backend();
    const kept = run('run_kept');
    await stores.runs.create(kept);
    await stores.runs.logParams(kept.id, [{ key: 'lr', value: '0.1' }]);
    const auditBefore = (await stores.audit.list({ actor: 'key_tx' }, 100)).items;

    const failure = new Error('boom after writing');
    await expect(
      tx.transaction(async (s) => {
        await s.runs.create(run('run_rolled_back'));
        await s.runs.logParams(kept.id, [{ key: 'batch', value: '32' }]);
        await s.runs.logMetrics(kept.id, [{ key: 'loss', value: 1, step: 0, timestamp: 1 }]);
        await s.runs.setTags(kept.id, [{ key: 'team', value: 'x' }]);
        await s.runs.setStatus(kept.id, 'FAILED', 99);
        await s.projects.create({ id: 'prj_ghost', name: 'ghost', description: '', createdAt: 0, createdBy: 'system' });
        await s.audit.append(auditEvent('run_rolled_back'));
        // Reads inside the transaction see its own writes.
        expect(await s.runs.get('run_rolled_back')).not.toBeNull();
        throw failure;
      }),
    ).rejects.toBe(failure);

    expect(await stores.runs.get('run_rolled_back')).toBeNull();
    expect(await stores.projects.get('prj_ghost')).toBeNull();
    expect(await stores.runs.getWithData(kept.id)).toEqual({
      ...kept,
      params: [{ key: 'lr', value: '0.1' }],
      tags: [],
      metrics: [],
      inputs: [],
    });
    expect((await stores.audit.list({ actor: 'key_tx' }, 100)).items).toEqual(auditBefore);
  });

  it('rolls back when a store call inside fails, and commits a transaction that returns', async () => {
    const { tx, stores } = backend();
    await stores.runs.create(run('run_conflict'));
    await stores.runs.logParams('run_conflict', [{ key: 'lr', value: '0.1' }]);
    await expect(
      tx.transaction(async (s) => {
        await s.runs.setTags('run_conflict', [{ key: 'attempt', value: '1' }]);
        await s.runs.logParams('run_conflict', [{ key: 'lr', value: '0.2' }]);
      }),
    ).rejects.toMatchObject({ code: 'PARAM_CONFLICT' });
    expect((await stores.runs.getWithData('run_conflict'))?.tags).toEqual([]);

    const result = await tx.transaction(async (s) => {
      await s.runs.create(run('run_committed'));
      await s.runs.setTags('run_committed', [{ key: 'ok', value: 'yes' }]);
      await s.audit.append(auditEvent('run_committed'));
      return 'done';
    });
    expect(result).toBe('done');
    expect((await stores.runs.getWithData('run_committed'))?.tags).toEqual([{ key: 'ok', value: 'yes' }]);
    expect((await stores.audit.list({ resourceId: 'run_committed' }, 10)).items).toHaveLength(1);
  });

  it('keeps stores usable after a rollback', async () => {
    const { tx, stores } = backend();
    await expect(
      tx.transaction(async (s) => {
        await s.runs.create(run('run_retry'));
        throw new Error('first attempt fails');
      }),
    ).rejects.toThrow('first attempt fails');
    await tx.transaction(async (s) => {
      await s.runs.create(run('run_retry'));
    });
    await stores.runs.setStatus('run_retry', 'FINISHED', 5);
    expect(await stores.runs.get('run_retry')).toEqual({ ...run('run_retry'), status: 'FINISHED', endTime: 5 });
  });
});
