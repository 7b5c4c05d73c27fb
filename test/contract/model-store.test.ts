import { beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/core/index.ts';
import {
  type AliasMove,
  type Approval,
  type ModelStore,
  type ModelVersion,
  parsePromotionPolicy,
  type RegisteredModel,
  type StoredPolicy,
} from '../../src/registry/index.ts';
import { describeEachBackend } from '../helpers/sql-backends.ts';

const model = (id: string, projectId: string, name: string): RegisteredModel => ({
  id,
  projectId,
  name,
  description: `model ${name}`,
  createdAt: 10,
  createdBy: 'key_a',
});

const version = (modelId: string, n: number): ModelVersion => ({
  id: newId('modelVersion'),
  modelId,
  version: n,
  source: n % 2 ? 'upload' : 'run',
  runId: null,
  artifactDigest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  artifactSize: 100 * n,
  manifest: {
    format: 'onnx',
    signature: {
      inputs: [{ name: 'x', dtype: 'float32', shape: [null, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [null] }],
    },
    metrics: { auc: 0.5 + n / 100 },
    lineage: {
      runId: null,
      datasetDigests: [],
      codeVersion: 'abc',
      featureService: null,
      evalDatasetDigest: `sha256:${'e'.repeat(64)}`,
    },
    tags: { stage: `s${n}` },
    opsets: [{ domain: '', version: 17 }],
    producer: 'keel',
  },
  description: '',
  createdAt: 1000 + n,
  createdBy: 'key_a',
});

describeEachBackend('model store', (backend) => {
  const models = (): ModelStore => backend().stores.models;

  beforeAll(async () => {
    for (const id of ['prj_m1', 'prj_m2']) {
      await backend().stores.projects.create({ id, name: id, description: '', createdAt: 0, createdBy: 'system' });
    }
  });

  it('keeps model names unique per project and lists them by name', async () => {
    await models().createModel(model('mdl_b1', 'prj_m1', 'churn'));
    await models().createModel(model('mdl_b2', 'prj_m2', 'churn'));
    await models().createModel(model('mdl_a1', 'prj_m1', 'Churn-v2'));
    await expect(models().createModel(model('mdl_x', 'prj_m1', 'churn'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await models().getModel('mdl_x')).toBeNull();
    expect(await models().getModel('mdl_b2')).toEqual(model('mdl_b2', 'prj_m2', 'churn'));
    expect(await models().getModelByName('prj_m1', 'churn')).toEqual(model('mdl_b1', 'prj_m1', 'churn'));
    expect(await models().getModelByName('prj_m1', 'CHURN')).toBeNull();
    expect((await models().listModels(['prj_m1'])).map((m) => m.id)).toEqual(['mdl_a1', 'mdl_b1']);
    expect((await models().listModels([])).map((m) => m.id)).toEqual([]);
    expect((await models().listModels('*')).map((m) => m.id)).toEqual(['mdl_a1', 'mdl_b1', 'mdl_b2']);
  });

  it('numbers versions and rejects a taken number with ALREADY_EXISTS', async () => {
    await models().createModel(model('mdl_v', 'prj_m1', 'versions'));
    expect(await models().maxVersion('mdl_v')).toBe(0);
    const created = [version('mdl_v', 2), version('mdl_v', 1), version('mdl_v', 3)];
    for (const v of created) await models().createVersion(v);
    await expect(models().createVersion(version('mdl_v', 2))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await models().maxVersion('mdl_v')).toBe(3);
    expect(await models().getVersion('mdl_v', 2)).toEqual(created[0]);
    expect(await models().getVersion('mdl_v', 4)).toBeNull();
    expect((await models().listVersions('mdl_v')).map((v) => v.version)).toEqual([1, 2, 3]);
    expect(await models().listVersions('mdl_none')).toEqual([]);
  });

  it('sets, moves and deletes aliases', async () => {
    await models().createModel(model('mdl_al', 'prj_m1', 'aliases'));
    for (const n of [1, 2, 3]) await models().createVersion(version('mdl_al', n));
    await models().setAlias('mdl_al', 'prod', 1, 100);
    await models().setAlias('mdl_al', 'Canary', 2, 110);
    await models().setAlias('mdl_al', 'prod', 3, 120);
    await models().setAlias('mdl_al', 'champion_2', 2, 130);
    await models().setAlias('mdl_al', 'champion-1', 1, 130);
    expect(await models().listAliases('mdl_al')).toEqual([
      { alias: 'Canary', version: 2, updatedAt: 110 },
      { alias: 'champion-1', version: 1, updatedAt: 130 },
      { alias: 'champion_2', version: 2, updatedAt: 130 },
      { alias: 'prod', version: 3, updatedAt: 120 },
    ]);
    await models().setAlias('mdl_al', 'Canary', null, 140);
    await models().setAlias('mdl_al', 'missing', null, 150);
    expect((await models().listAliases('mdl_al')).map((a) => a.alias)).toEqual(['champion-1', 'champion_2', 'prod']);
  });

  it('lists alias moves oldest first and finds the move in force at any time', async () => {
    await models().createModel(model('mdl_mv', 'prj_m1', 'moves'));
    const move = (alias: string, fromVersion: number | null, toVersion: number | null, at: number): AliasMove => ({
      id: newId('aliasMove'),
      modelId: 'mdl_mv',
      alias,
      fromVersion,
      toVersion,
      actor: 'key_a',
      reason: `${alias} ${toVersion}`,
      at,
      checks: toVersion === 2 ? [{ name: 'auc', passed: true, value: 0.9, threshold: 0.8 }] : null,
    });
    // Appended out of time order, with two aliases moving at the same instant.
    const moves = [
      move('prod', null, 1, 1000),
      move('prod', 1, 2, 2000),
      move('staging', null, 2, 2000),
      move('prod', 2, null, 3000),
      move('canary', null, 1, 2000),
      move('prod', 2, 3, 2500),
    ];
    for (const m of moves) await models().appendAliasMove(m);
    const [p1, p2, s2, pDel, c1, p3] = moves as [AliasMove, AliasMove, AliasMove, AliasMove, AliasMove, AliasMove];

    expect(await models().listAliasMoves('mdl_mv')).toEqual([p1, c1, p2, s2, p3, pDel]);
    expect(await models().listAliasMoves('mdl_mv', 'prod')).toEqual([p1, p2, p3, pDel]);
    expect(await models().listAliasMoves('mdl_mv', 'none')).toEqual([]);

    expect(await models().lastMoveAt('mdl_mv', 'prod', 999)).toBeNull();
    expect(await models().lastMoveAt('mdl_mv', 'prod', 1000)).toEqual(p1);
    expect(await models().lastMoveAt('mdl_mv', 'prod', 1999)).toEqual(p1);
    expect(await models().lastMoveAt('mdl_mv', 'prod', 2000)).toEqual(p2);
    expect(await models().lastMoveAt('mdl_mv', 'prod', 2700)).toEqual(p3);
    expect(await models().lastMoveAt('mdl_mv', 'prod', 3000)).toEqual(pDel);
    expect(await models().lastMoveAt('mdl_mv', 'prod', Number.MAX_SAFE_INTEGER)).toMatchObject({
      toVersion: null,
      fromVersion: 2,
    });
    expect(await models().lastMoveAt('mdl_mv', 'staging', 5000)).toEqual(s2);
    expect(await models().lastMoveAt('mdl_mv', 'none', 5000)).toBeNull();
  });

  it('stores one policy per model and replaces it whole', async () => {
    await models().createModel(model('mdl_pol', 'prj_m1', 'policy'));
    await models().createModel(model('mdl_pol2', 'prj_m1', 'policy-2'));
    expect(await models().getPolicy('mdl_pol')).toBeNull();
    const yaml = 'protected_aliases: [champion]\nchecks:\n  metrics: { auc: { min: 0.7 } }\n  approvals: 1\n';
    const first: StoredPolicy = {
      modelId: 'mdl_pol',
      policy: parsePromotionPolicy(yaml),
      source: yaml,
      updatedAt: 100,
      updatedBy: 'key_a',
    };
    await models().putPolicy(first);
    expect(await models().getPolicy('mdl_pol')).toEqual(first);
    const json = '{"protected_aliases": ["prod", "champion"], "checks": {"no_regression": {"metrics": ["auc", "log_loss"]}}}';
    const second: StoredPolicy = {
      modelId: 'mdl_pol',
      policy: parsePromotionPolicy(json),
      source: json,
      updatedAt: 200,
      updatedBy: 'key_b',
    };
    await models().putPolicy(second);
    expect(await models().getPolicy('mdl_pol')).toEqual(second);
    expect(await models().getPolicy('mdl_pol2')).toBeNull();
  });

  it('keeps approvals per version, alias (or any alias) and approver, oldest first', async () => {
    await models().createModel(model('mdl_ap', 'prj_m1', 'approvals'));
    const approval = (version: number, alias: string | null, approver: string, at: number): Approval => ({
      modelId: 'mdl_ap',
      version,
      alias,
      approver,
      role: 'deployer',
      comment: `${approver} on ${version}`,
      at,
    });
    const list = [
      approval(2, 'champion', 'key_b', 300),
      approval(2, null, 'key_b', 300),
      approval(1, 'champion', 'key_a', 100),
      approval(2, 'champion', 'key_a', 200),
      approval(2, 'production', 'key_a', 300),
    ];
    for (const a of list) await models().addApproval(a);
    await expect(models().addApproval(approval(2, 'champion', 'key_a', 400))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(models().addApproval(approval(2, null, 'key_b', 400))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const [b2, bAny, a1, a2, a2p] = list as [Approval, Approval, Approval, Approval, Approval];
    expect(await models().listApprovals('mdl_ap', 2)).toEqual([a2, bAny, b2, a2p]);
    expect(await models().listApprovals('mdl_ap')).toEqual([a1, a2, bAny, b2, a2p]);
    expect(await models().listApprovals('mdl_ap', 3)).toEqual([]);
    expect(await models().listApprovals('mdl_none')).toEqual([]);
  });
});
