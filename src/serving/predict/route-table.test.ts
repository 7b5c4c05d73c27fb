import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AppError, ManualClock, silentLogger } from '../../core/index.ts';
import type { DatasetService } from '../../datasets/index.ts';
import type { FeatureStoreService } from '../../features/index.ts';
import type { RegistryService } from '../../registry/index.ts';
import { type Deployment, type DeploymentStore, deploymentSpecSchema } from '../../rollouts/index.ts';
import type { ModelLease, ModelRef } from '../runtime/model-cache.ts';
import { RouteTable } from './route-table.ts';

const signature = { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }], outputs: [] };

/** A deployment following `champion`, whose target the test moves; `acquire` is gated per digest. */
function harness() {
  let champion = 1;
  const deployment: Deployment = {
    id: 'dep_1',
    projectId: 'prj_1',
    name: 'lin',
    revision: 1,
    spec: deploymentSpecSchema.parse({ model: 'lin', ref: { alias: 'champion' } }),
    createdAt: 0,
    updatedAt: 0,
    updatedBy: 'key_a',
  };
  const store = { get: async () => deployment } as unknown as DeploymentStore;
  const registry = {
    getVersion: async () => ({
      version: champion,
      artifactDigest: `sha256:v${champion}`,
      artifactSize: 10,
      manifest: { signature, lineage: { featureService: null } },
    }),
  } as unknown as RegistryService;
  const loads = new Map<string, { done: Promise<void>; finish(error?: Error): void }>();
  const acquired: string[] = [];
  const models = {
    async acquire(ref: ModelRef): Promise<ModelLease> {
      acquired.push(ref.digest);
      await loads.get(ref.digest)?.done;
      return { release() {} } as unknown as ModelLease;
    },
  };
  const gate = (digest: string) => {
    let finish: (error?: Error) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      finish = (error) => (error ? reject(error) : resolve());
    });
    loads.set(digest, { done, finish });
    return finish;
  };
  const metrics = new Registry();
  const routes = new RouteTable({
    deployments: () => store,
    registry,
    features: {} as FeatureStoreService,
    datasets: {} as DatasetService,
    models,
    metrics,
    clock: new ManualClock(0),
    logger: silentLogger,
    refreshMs: 60_000,
  });
  const served = async () => (await routes.get('prj_1', 'lin')).model.version;
  /** Moves champion to `v` and starts the switch; resolves once v's model is warming, held at its gate. */
  const startSwitch = async (v: number) => {
    champion = v;
    const digest = `sha256:v${v}`;
    const finish = gate(digest);
    const switching = routes.invalidate('prj_1', 'lin');
    for (let turns = 0; !acquired.includes(digest); turns++) {
      if (turns > 1000) throw new Error(`the switch never started loading ${digest}`);
      await new Promise((r) => setImmediate(r));
    }
    return { finish, switching };
  };
  const failures = async () => (await metrics.getSingleMetric('keel_route_switch_failures_total')?.get())?.values ?? [];
  return { routes, served, gate, acquired, failures, startSwitch, moveChampion: (v: number) => (champion = v) };
}

describe('RouteTable switches', () => {
  it('keeps serving the old model while the new one loads, and swaps once it is warm', async () => {
    const h = harness();
    expect(await h.served()).toBe(1);
    const { finish, switching } = await h.startSwitch(2);
    expect(h.acquired).toContain('sha256:v2');
    expect(await h.served()).toBe(1);
    finish();
    await switching;
    expect(await h.served()).toBe(2);
  });

  it('keeps the old route when the new model fails to load, counting it once, and switches after a fix', async () => {
    const h = harness();
    expect(await h.served()).toBe(1);
    h.moveChampion(2);
    h.gate('sha256:v2')(new AppError('UNAVAILABLE', 'failed to load: no such operator', { state: 'FAILED' }));
    await h.routes.invalidate('prj_1', 'lin');
    await h.routes.invalidate('prj_1', 'lin');
    expect(await h.served()).toBe(1);
    expect(await h.failures()).toMatchObject([{ labels: { deployment: 'lin', model_version: '2' }, value: 1 }]);
    h.moveChampion(3);
    await h.routes.invalidate('prj_1', 'lin');
    expect(await h.served()).toBe(3);
  });

  it('ends on a rollback issued while the model it undoes is still warming', async () => {
    const h = harness();
    expect(await h.served()).toBe(1);
    const { finish, switching: deploying } = await h.startSwitch(2);
    h.moveChampion(1);
    const rollingBack = h.routes.invalidate('prj_1', 'lin');
    finish();
    await Promise.all([deploying, rollingBack]);
    expect(await h.served()).toBe(1);
  });

  it('does not load the model on first resolution: the first request does', async () => {
    const h = harness();
    expect(await h.served()).toBe(1);
    expect(h.acquired).toEqual([]);
  });
});
