import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeelClient } from '../../src/client/index.ts';
import { buildLinearModel, buildOnnxModel } from '../../src/registry/index.ts';
import { runCli } from '../helpers/cli.ts';
import { postPredict, startLinearKeel } from '../helpers/serving-fixtures.ts';
import type { TestKeel } from '../helpers/test-keel.ts';

/**
 * Blue-green switches of the `lin` deployment: the new version is loaded and warmed before the
 * pointer moves, a version the runtime refuses never takes traffic, and rollback restores the
 * version that was served, also after the followed alias moved.
 */
describe('deployment switches and rollback', () => {
  let keel: TestKeel;
  let admin: KeelClient;
  let predictorKey: string;
  let dir: string;
  let v1: number;

  const predict = async () => {
    const res = await postPredict(keel.url, predictorKey, 'lin', { record: { x: [1, 2] } });
    return { status: res.status, body: (await res.json()) as { model?: { version: number }; error?: { code: string } } };
  };
  /** Routes switch on the deployment.changed event or the periodic refresh; tests force the refresh. */
  const refreshRoute = () =>
    keel.ctx.predictPath.routes.invalidate(keel.ctx.predictPath.routes.list()[0]?.projectId ?? '', 'lin');
  const servedVersion = async () => (await predict()).body.model?.version;

  const register = async (file: string, bytes: Uint8Array) => {
    const path = join(dir, file);
    await writeFile(path, bytes);
    return (await admin.registerModel({ name: 'lin', file: path })).version;
  };
  const good = (bias: number) =>
    buildLinearModel({ features: 2, weights: [0.5, -0.25], bias, sigmoid: true, outputName: 'probability' });
  // A well-formed ONNX file (the registry accepts it) that ONNX Runtime refuses to load.
  const refused = () =>
    buildOnnxModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'probability', dtype: 'float32', shape: ['batch', 1] }],
      nodes: [{ opType: 'NoSuchOperator', inputs: ['x'], outputs: ['probability'] }],
    });
  const digestOf = async (version: number) => (await admin.getVersion('lin', version)).artifactDigest;
  const cacheState = (digest: string) => keel.ctx.serving.models.status(digest).state;

  beforeAll(async () => {
    ({ keel, admin, predictorKey } = await startLinearKeel());
    v1 = (await admin.getVersion('lin', 'champion')).version;
    dir = await mkdtemp(join(tmpdir(), 'keel-switch-'));
  });
  afterAll(async () => keel?.dispose());

  it('refuses to switch to a version ONNX Runtime cannot load, and the old version keeps serving', async () => {
    expect(await servedVersion()).toBe(v1);
    const broken = await register('broken.onnx', refused());
    const before = await admin.deployments.get('lin');
    await expect(admin.deployments.deploy('lin', { model: 'lin', ref: { version: broken } })).rejects.toMatchObject({
      status: 422,
      code: 'MODEL_LOAD_FAILED',
      message: expect.stringMatching(/NoSuchOperator/),
    });
    const after = await admin.deployments.get('lin');
    expect(after.revision).toBe(before.revision);
    expect(after.revisions).toHaveLength(before.revisions?.length ?? 0);
    await refreshRoute();
    expect(await predict()).toMatchObject({ status: 200, body: { model: { version: v1 } } });
    // The CLI exits with the registry's code for it and prints the runtime's reason.
    const cli = await runCli(['deploy', 'lin', '--model', `lin@${broken}`], { url: keel.url, key: keel.adminKey as string });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/MODEL_LOAD_FAILED|NoSuchOperator/);
  });

  it('has the new version loaded and warm in the serving runtime before the switch is acknowledged', async () => {
    const v = await register('good.onnx', good(0.3));
    const digest = await digestOf(v);
    expect(cacheState(digest)).toBe('UNLOADED');
    const res = await admin.deployments.deploy('lin', { model: 'lin', ref: { version: v } });
    expect(res.version).toBe(v);
    expect(cacheState(digest)).toBe('READY');
    await refreshRoute();
    expect(await servedVersion()).toBe(v);
    // Back to following the alias for the next test.
    await admin.deployments.deploy('lin', { model: 'lin', ref: { alias: 'champion' } });
    await refreshRoute();
    expect(await servedVersion()).toBe(v1);
  });

  it('rolls back to the version served before the followed alias moved, pinned', async () => {
    const current = await admin.deployments.get('lin');
    expect(current.revisions?.[0]?.version).toBe(v1);
    const v = await register('next.onnx', good(0.7));
    await admin.setAlias({ model: 'lin', alias: 'champion', version: v, reason: 'promote' });
    await refreshRoute();
    expect(await servedVersion()).toBe(v);

    const back = await admin.deployments.rollback('lin');
    expect(back).toMatchObject({ revision: current.revision + 1, version: v1, spec: { ref: { version: v1 } } });
    await refreshRoute();
    expect(await servedVersion()).toBe(v1);
    const shown = await admin.deployments.get('lin');
    expect(shown.revisions?.[0]).toMatchObject({ version: v1, reason: `rollback to v${v1}, before lin@champion moved` });

    // Pinned now: moving the alias again does not change what it serves.
    await admin.setAlias({ model: 'lin', alias: 'champion', version: v, reason: 'again' });
    await refreshRoute();
    expect(await servedVersion()).toBe(v1);
  });

  it('rolls back to an earlier revision that followed an alias by pinning the version it served then', async () => {
    const revisions = (await admin.deployments.get('lin')).revisions ?? [];
    const first = revisions.at(-1);
    expect(first).toMatchObject({ revision: 1, spec: { ref: { alias: 'champion' } }, version: v1 });
    const back = await admin.deployments.rollback('lin', { revision: 1 });
    expect(back).toMatchObject({ version: v1, spec: { ref: { version: v1 } } });
    await refreshRoute();
    expect(await servedVersion()).toBe(v1);
  });

  it('keeps serving the old version when the followed alias moves to a version the runtime refuses', async () => {
    await admin.deployments.deploy('lin', { model: 'lin', ref: { alias: 'champion' } });
    await admin.setAlias({ model: 'lin', alias: 'champion', version: v1, reason: 'reset' });
    await refreshRoute();
    expect(await servedVersion()).toBe(v1);
    const metrics = async () => (await fetch(`${keel.url}/metrics`)).text();
    const failures = (text: string) =>
      Number(/keel_route_switch_failures_total\{deployment="lin"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    const failedBefore = failures(await metrics());
    const broken = await register('broken2.onnx', refused());
    await admin.setAlias({ model: 'lin', alias: 'champion', version: broken, reason: 'bad promote' });
    await refreshRoute();
    expect(await predict()).toMatchObject({ status: 200, body: { model: { version: v1 } } });
    expect(failures(await metrics())).toBe(failedBefore + 1);
    // Rollback undoes the alias move the deployment could not follow.
    const back = await admin.deployments.rollback('lin');
    expect(back).toMatchObject({ version: v1, spec: { ref: { version: v1 } } });
    expect((await admin.deployments.get('lin')).revisions?.[0]?.reason).toBe(`rollback to v${v1}, before lin@champion moved`);
  });
});
