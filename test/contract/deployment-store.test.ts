import { beforeAll, expect, it } from 'vitest';
import {
  type Deployment,
  type DeploymentRevision,
  type DeploymentStore,
  deploymentSpecSchema,
} from '../../src/rollouts/index.ts';
import { describeEachBackend } from '../helpers/sql-backends.ts';

const spec = (alias: string) =>
  deploymentSpecSchema.parse({ model: 'delay', ref: { alias }, options: { contract: 'flights@2' } });

const deployment = (id: string, projectId: string, name: string, revision = 1, alias = 'champion'): Deployment => ({
  id,
  projectId,
  name,
  revision,
  spec: spec(alias),
  createdAt: 10,
  updatedAt: 10 + revision,
  updatedBy: 'key_a',
});

const revision = (d: Deployment, reason = '', version: number | null = 3): DeploymentRevision => ({
  deploymentId: d.id,
  revision: d.revision,
  spec: d.spec,
  version,
  reason,
  at: d.updatedAt,
  by: d.updatedBy,
});

describeEachBackend('deployment store', (backend) => {
  let store: DeploymentStore;

  beforeAll(async () => {
    for (const id of ['prj_d1', 'prj_d2']) {
      await backend().stores.projects.create({ id, name: id, description: '', createdAt: 0, createdBy: 'system' });
    }
    store = backend().stores.deployments;
  });

  it('creates deployments with unique names per project and lists them by name', async () => {
    const a = deployment('dep_a', 'prj_d1', 'zeta');
    await store.create(a, revision(a, 'first', null));
    const b = deployment('dep_b', 'prj_d1', 'alpha');
    await store.create(b, revision(b));
    const c = deployment('dep_c', 'prj_d2', 'zeta');
    await store.create(c, revision(c));
    await expect(store.create(deployment('dep_x', 'prj_d1', 'zeta'), revision(a))).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    expect(await store.get('prj_d1', 'zeta')).toEqual(a);
    expect(await store.get('prj_d1', 'nope')).toBeNull();
    expect((await store.list('prj_d1')).map((d) => d.name)).toEqual(['alpha', 'zeta']);
    expect((await store.list(null)).map((d) => d.id)).toEqual(['dep_b', 'dep_a', 'dep_c']);
  });

  it('switches only from the revision the caller saw, and keeps every revision', async () => {
    const current = (await store.get('prj_d1', 'zeta')) as Deployment;
    const next = { ...current, revision: 2, spec: spec('challenger'), updatedAt: 50 };
    await store.update(next, 1, revision(next, 'switch'));
    const stale = { ...current, revision: 2, spec: spec('other') };
    await expect(store.update(stale, 1, revision(stale))).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await store.get('prj_d1', 'zeta'))?.spec.ref).toEqual({ alias: 'challenger' });
    const revisions = await store.revisions('dep_a');
    expect(revisions.map((r) => [r.revision, r.reason, 'alias' in r.spec.ref ? r.spec.ref.alias : null, r.version])).toEqual([
      [2, 'switch', 'challenger', 3],
      [1, 'first', 'champion', null],
    ]);
    expect(revisions[1]?.spec.options.contract).toBe('flights@2');
  });
});
