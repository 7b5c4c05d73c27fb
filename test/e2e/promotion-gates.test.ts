import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelApiError, KeelClient } from '../../src/client/index.ts';
import { buildLinearModel } from '../../src/registry/index.ts';
import { freshName } from '../helpers/api-fixtures.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const evalSet = `sha256:${'e'.repeat(64)}`;
const otherEvalSet = `sha256:${'f'.repeat(64)}`;

/** What a call was refused with: the server's code, status, message and details. */
async function refusal(p: Promise<unknown>): Promise<KeelApiError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof KeelApiError)) throw new Error(`expected a KeelApiError, got ${String(e)}`);
  return e;
}

function runCli(args: string[], env: { url: string; key: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: repoRoot, env: { ...process.env, KEEL_URL: env.url, KEEL_API_KEY: env.key }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('promotion gates through the HTTP API and SDK', () => {
  let keel: TestKeel;
  let dir: string;
  let admin: KeelClient;
  let scientist: KeelClient;
  let deployer: KeelClient;
  let deployer2: KeelClient;
  let viewer: KeelClient;
  const keys = { admin: '', deployer: '' };
  const files: Record<number, string> = {};

  /** Registers a version as the scientist (the proposer), with metrics measured on `evalDigest`. */
  const register = async (
    model: string,
    metrics: Record<string, number>,
    opts: { features?: number; evalDigest?: string } = {},
  ) => {
    const features = opts.features ?? 3;
    const v = await scientist.registerModel({
      name: model,
      file: files[features] as string,
      metrics,
      lineage: { evalDatasetDigest: opts.evalDigest ?? evalSet },
    });
    return v.version;
  };
  const champion = async (model: string) => (await admin.aliasAt(model, 'champion')).version;

  beforeAll(async () => {
    keel = await startTestKeel();
    keys.admin = keel.adminKey as string;
    admin = new KeelClient({ url: keel.url, apiKey: keys.admin });
    const client = async (role: string) => new KeelClient({ url: keel.url, apiKey: (await admin.createKey({ role })).key });
    scientist = await client('scientist');
    const dk = await admin.createKey({ role: 'deployer', name: 'release-bot' });
    keys.deployer = dk.key;
    deployer = new KeelClient({ url: keel.url, apiKey: dk.key });
    deployer2 = await client('deployer');
    viewer = await client('viewer');
    dir = await mkdtemp(join(tmpdir(), 'keel-gates-'));
    for (const features of [3, 4]) {
      files[features] = join(dir, `model-${features}.onnx`);
      const weights = Array.from({ length: features }, (_, i) => i / 10);
      await writeFile(files[features] as string, buildLinearModel({ features, weights, bias: 0, sigmoid: true }));
    }
  });
  afterAll(async () => {
    await keel?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad policies with 400 INVALID_POLICY and policy writes from anyone but an admin', async () => {
    const model = freshName('gates');
    await register(model, { auc: 0.8 });
    const bad = await refusal(
      admin.promotion.setPolicy(model, 'protected_aliases: [champion]\nchecks: { metrics: { auc: { min: x } } }'),
    );
    expect([bad.status, bad.code]).toEqual([400, 'INVALID_POLICY']);
    expect(bad.message).toContain('checks.metrics.auc.min');
    const malformed = await refusal(admin.promotion.setPolicy(model, 'protected_aliases: [champion\n'));
    expect([malformed.status, malformed.code]).toEqual([400, 'INVALID_POLICY']);
    expect(malformed.message).toContain('malformed YAML');
    expect((await refusal(admin.promotion.getPolicy(model))).code).toBe('NOT_FOUND');
    for (const c of [scientist, deployer, viewer]) {
      expect((await refusal(c.promotion.setPolicy(model, 'protected_aliases: []'))).code).toBe('FORBIDDEN');
    }
    const yaml = 'protected_aliases: [champion]\nchecks:\n  metrics: { auc: { min: 0.7 } }\n';
    await admin.promotion.setPolicy(model, yaml);
    const shown = await viewer.promotion.getPolicy(model);
    expect(shown).toMatchObject({ model, source: yaml, policy: { protectedAliases: ['champion'] } });
    const audit = await admin.audit({ action: 'model.policy.set' });
    expect(audit.events[0]).toMatchObject({ resourceType: 'model', after: { protectedAliases: ['champion'] } });
  });

  it('gates thresholds and regression against the champion on the same evaluation dataset', async () => {
    const model = freshName('gates');
    const v1 = await register(model, { auc: 0.8, log_loss: 0.4 });
    const low = await register(model, { auc: 0.65, log_loss: 0.3 });
    const regressed = await register(model, { auc: 0.75, log_loss: 0.3 });
    const otherData = await register(model, { auc: 0.9, log_loss: 0.2 }, { evalDigest: otherEvalSet });
    const better = await register(model, { auc: 0.85, log_loss: 0.405 });
    await admin.promotion.setPolicy(model, {
      protected_aliases: ['champion'],
      checks: { metrics: { auc: { min: 0.7 } }, no_regression: { tolerance: 0.01, metrics: ['auc', 'log_loss'] } },
    });
    const first = await deployer.setAlias({ model, alias: 'champion', version: v1 });
    expect(first.checks?.map((c) => c.name)).toEqual(['metrics.auc', 'no_regression']);

    const e1 = await refusal(deployer.setAlias({ model, alias: 'champion', version: low }));
    expect([e1.status, e1.code]).toEqual([409, 'GATE_FAILED']);
    expect(e1.message).toContain("refused moving 'champion' to version 2: metrics.auc (auc 0.65 is below the minimum 0.7)");
    expect(e1.details).toMatchObject({ alias: 'champion', version: low, failed: ['metrics.auc', 'no_regression.auc'] });
    expect(await champion(model)).toBe(v1);

    const e2 = await refusal(deployer.setAlias({ model, alias: 'champion', version: regressed }));
    expect((e2.details as { failed: string[] }).failed).toEqual(['no_regression.auc']);
    expect(e2.message).toContain('auc 0.75 vs 0.8 on champion (version 1): worse by 0.05, tolerance 0.01');

    const e3 = await refusal(deployer.setAlias({ model, alias: 'champion', version: otherData }));
    expect((e3.details as { failed: string[] }).failed).toEqual(['no_regression.eval_dataset']);
    expect(e3.message).toContain('metrics are comparable only on the same pinned evaluation dataset');
    expect(await champion(model)).toBe(v1);

    const moved = await deployer.setAlias({ model, alias: 'champion', version: better, reason: 'better auc' });
    expect(moved.checks?.every((c) => c.passed)).toBe(true);
    expect(moved.checks?.map((c) => c.name)).toEqual([
      'metrics.auc',
      'no_regression.eval_dataset',
      'no_regression.auc',
      'no_regression.log_loss',
    ]);
    expect(await champion(model)).toBe(better);
    // Unprotected aliases move freely, whatever the version.
    expect((await deployer.setAlias({ model, alias: 'staging', version: low })).checks).toBeNull();
    const refusals = await admin.audit({ action: 'model.alias.refuse' });
    expect(refusals.events.length).toBeGreaterThanOrEqual(3);
  });

  it('gates the segment gap and signature compatibility with the current champion', async () => {
    const model = freshName('gates');
    const v1 = await register(model, { 'gap.origin_group.auc': 0.02, 'gap.hour.auc': 0.03 });
    const unfair = await register(model, { 'gap.origin_group.auc': 0.12, 'gap.hour.auc': 0.03 });
    const reshaped = await register(model, { 'gap.origin_group.auc': 0.01, 'gap.hour.auc': 0.01 }, { features: 4 });
    await admin.promotion.setPolicy(
      model,
      'protected_aliases: [champion]\nchecks:\n  max_segment_gap: { segments: [origin_group], metrics: { auc: 0.05 } }\n  signature_compatible: true\n',
    );
    await deployer.setAlias({ model, alias: 'champion', version: v1 });
    const e1 = await refusal(deployer.setAlias({ model, alias: 'champion', version: unfair }));
    expect((e1.details as { failed: string[] }).failed).toEqual(['max_segment_gap.origin_group.auc']);
    expect(e1.message).toContain('gap.origin_group.auc 0.12 is over the limit 0.05');
    const e2 = await refusal(deployer.setAlias({ model, alias: 'champion', version: reshaped }));
    expect((e2.details as { failed: string[] }).failed).toEqual(['signature_compatible']);
    expect(e2.message).toContain("input 'x': shape mismatch at dim 1 (declared 3, model has 4)");
    expect(await champion(model)).toBe(v1);
  });

  it('needs N approvals by deployers other than the proposer; gates shows the dry run and stored results', async () => {
    const model = freshName('gates');
    const v1 = await register(model, { auc: 0.9 });
    const adminMade = (await admin.registerModel({ name: model, file: files[3] as string })).version;
    await admin.promotion.setPolicy(
      model,
      'protected_aliases: [champion]\nchecks:\n  metrics: { auc: { min: 0.7 } }\n  approvals: 2\n',
    );

    const dry = await viewer.promotion.gates(model, v1, 'champion');
    expect(dry.evaluations).toEqual([
      expect.objectContaining({ alias: 'champion', protected: true, currentVersion: null, passed: false }),
    ]);
    expect(dry.evaluations[0]?.checks.map((c) => [c.name, c.passed, c.value])).toEqual([
      ['metrics.auc', true, 0.9],
      ['approvals', false, 0],
    ]);

    const proposer = await refusal(scientist.promotion.approve(model, v1, { alias: 'champion' }));
    expect([proposer.status, proposer.code]).toEqual([403, 'FORBIDDEN']);
    expect((await refusal(viewer.promotion.approve(model, v1))).code).toBe('FORBIDDEN');
    const own = await refusal(admin.promotion.approve(model, adminMade));
    expect(own.code).toBe('FORBIDDEN');
    expect(own.message).toContain('cannot also approve it');

    const a1 = await deployer.promotion.approve(model, v1, { alias: 'champion', comment: 'offline eval ok' });
    expect(a1).toMatchObject({ created: true, version: v1, alias: 'champion', role: 'deployer', comment: 'offline eval ok' });
    expect((await deployer.promotion.approve(model, v1, { alias: 'champion' })).created).toBe(false);
    const short = await refusal(deployer.setAlias({ model, alias: 'champion', version: v1 }));
    expect(short.message).toContain('approvals (1 of 2 approvals');
    expect(await refusal(admin.aliasAt(model, 'champion')).then((e) => e.code)).toBe('NOT_FOUND');

    await deployer2.promotion.approve(model, v1); // for every protected alias
    const moved = await deployer.setAlias({ model, alias: 'champion', version: v1, reason: 'two approvals' });
    expect(moved.checks?.find((c) => c.name === 'approvals')).toMatchObject({ passed: true, value: 2, threshold: 2 });

    const report = await viewer.promotion.gates(model, v1);
    expect(report.policy?.protectedAliases).toEqual(['champion']);
    expect(report.evaluations.map((e) => [e.alias, e.currentVersion, e.passed])).toEqual([['champion', v1, true]]);
    expect(report.approvals.map((a) => [a.alias, a.role])).toEqual([
      ['champion', 'deployer'],
      [null, 'deployer'],
    ]);
    expect(report.moves).toEqual([expect.objectContaining({ id: moved.id, toVersion: v1, checks: moved.checks })]);
    const approvals = await admin.audit({ action: 'model.version.approve' });
    expect(approvals.events.length).toBeGreaterThanOrEqual(2);

    // The CLI prints the same report as a table, and exits 10 when a version would be refused.
    const table = await runCli(['models', 'gates', model, String(v1)], { url: keel.url, key: keys.deployer });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/metrics\.auc\s*│\s*0\.9\s*│\s*≥ 0\.7\s*│\s*pass/);
    expect(table.stdout).toContain(`stored: `);
    const refused = await runCli(['models', 'gates', model, String(adminMade), '--alias', 'champion'], {
      url: keel.url,
      key: keys.deployer,
    });
    expect(refused.code).toBe(10);
    expect(refused.stdout).toMatch(/approvals\s*│\s*0\s*│\s*≥ 2\s*│\s*FAIL/);
    expect(refused.stderr).toContain('[GATE_FAILED]');
  });
});
