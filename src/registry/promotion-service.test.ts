import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type Principal, systemPrincipal } from '../auth/index.ts';
import { type AppError, ManualClock } from '../core/index.ts';
import { FakeBlobStore } from '../storage/index.ts';
import { memoryTransactor } from '../stores.ts';
import { TrackingService } from '../tracking/index.ts';
import { buildLinearModel } from './onnx/index.ts';
import { PromotionGate } from './promotion-gate.ts';
import { PromotionService } from './promotion-service.ts';
import { RegistryService } from './registry-service.ts';

const key = (id: string, role: Principal['role']): Principal => ({ id, name: id, role, projects: '*' });
const scientist = key('key_sci', 'scientist');
const deployer = key('key_dep', 'deployer');
const deployer2 = key('key_dep2', 'deployer');
const evalSet = `sha256:${'e'.repeat(64)}`;

async function setup() {
  const clock = new ManualClock(1_000);
  const tx = memoryTransactor();
  await tx.stores.projects.create({ id: 'prj_1', name: 'default', description: '', createdAt: 0, createdBy: 'system' });
  const blobs = new FakeBlobStore();
  const tracking = new TrackingService(tx, blobs, clock, { artifactBytes: 1e9 });
  const registry = new RegistryService(tx, blobs, tracking, clock, { modelBytes: 1e9 }, [new PromotionGate()]);
  const promotion = new PromotionService(tx, registry, clock);
  const register = (metrics: Record<string, number>, opts: { features?: number; evalDigest?: string | null } = {}) =>
    registry.registerVersion(scientist, {
      projectId: 'prj_1',
      model: 'm',
      source: {
        kind: 'upload',
        body: Readable.from([
          Buffer.from(
            buildLinearModel({ features: opts.features ?? 2, weights: [1, 2, 3].slice(0, opts.features ?? 2), bias: 0 }),
          ),
        ]),
      },
      metrics,
      lineage: { evalDatasetDigest: opts.evalDigest === undefined ? evalSet : opts.evalDigest },
    });
  const move = (version: number, alias = 'champion', actor = deployer) =>
    registry.moveAlias(actor, { projectId: 'prj_1', model: 'm', alias, version });
  const refusal = async (p: Promise<unknown>) => (await p.then(() => null).catch((e: unknown) => e)) as AppError;
  return { clock, tx, registry, promotion, register, move, refusal };
}

describe('promotion gates', () => {
  it('refuses a move below a threshold, names the check, keeps the alias and audits the refusal', async () => {
    const { registry, promotion, register, move, refusal, tx } = await setup();
    await register({ auc: 0.8 });
    await register({ auc: 0.6 });
    await move(1); // no policy yet: free
    await promotion.setPolicy(systemPrincipal, 'prj_1', 'm', {
      yaml: 'protected_aliases: [champion]\nchecks: { metrics: { auc: { min: 0.7 } } }',
    });
    const e = await refusal(move(2));
    expect(e.code).toBe('GATE_FAILED');
    expect(e.message).toContain("refused moving 'champion' to version 2: metrics.auc (auc 0.6 is below the minimum 0.7)");
    expect(e.details).toMatchObject({ failed: ['metrics.auc'], checks: [{ name: 'metrics.auc', passed: false, value: 0.6 }] });
    expect((await registry.getVersion(systemPrincipal, 'prj_1', 'm', 'champion')).version).toBe(1);
    const refused = await tx.stores.audit.list({ action: 'model.alias.refuse' }, 10);
    expect(refused.items.map((a) => a.after)).toEqual([{ alias: 'champion', version: 2, failed: ['metrics.auc'] }]);
    // Unprotected aliases move freely and store no checks.
    expect((await move(2, 'staging')).checks).toBeNull();
  });

  it('compares against the champion on the same evaluation dataset, with direction and tolerance', async () => {
    const { promotion, register, move, refusal } = await setup();
    await register({ auc: 0.8, log_loss: 0.4 });
    await register({ auc: 0.795, log_loss: 0.41 }); // within tolerance
    await register({ auc: 0.7, log_loss: 0.3 }); // auc regressed
    await register({ auc: 0.9, log_loss: 0.3 }, { evalDigest: `sha256:${'f'.repeat(64)}` });
    await register({ auc: 0.9, log_loss: 0.3 }, { evalDigest: null });
    await promotion.setPolicy(systemPrincipal, 'prj_1', 'm', {
      policy: { protected_aliases: ['champion'], checks: { no_regression: { tolerance: 0.01, metrics: ['auc', 'log_loss'] } } },
    });
    const first = await move(1);
    expect(first.checks).toEqual([
      expect.objectContaining({
        name: 'no_regression',
        passed: true,
        message: "no version holds 'champion' yet: nothing to regress against",
      }),
    ]);
    const second = await move(2);
    expect(second.checks?.map((c) => [c.name, c.passed])).toEqual([
      ['no_regression.eval_dataset', true],
      ['no_regression.auc', true],
      ['no_regression.log_loss', true],
    ]);
    const regressed = await refusal(move(3));
    expect(regressed.details).toMatchObject({ failed: ['no_regression.auc'] });
    expect(regressed.message).toContain('auc 0.7 vs 0.795 on champion (version 2): worse by 0.095, tolerance 0.01');
    const otherData = await refusal(move(4));
    expect(otherData.details).toMatchObject({ failed: ['no_regression.eval_dataset'] });
    expect(otherData.message).toContain(
      'version 4 was evaluated on sha256:ffffffffffff… but champion (version 2) on sha256:eeeeeeeeeeee…',
    );
    const noDigest = await refusal(move(5));
    expect(noDigest.message).toContain('version 5 records no evaluation dataset digest');
  });

  it('checks the segment gap and signature compatibility with the current holder', async () => {
    const { promotion, register, move, refusal } = await setup();
    await register({ 'gap.origin.auc': 0.02, 'gap.carrier.auc': 0.01 });
    await register({ 'gap.origin.auc': 0.2, 'gap.carrier.auc': 0.01 });
    await register({ auc: 0.9 });
    await register({ 'gap.origin.auc': 0.01, 'gap.carrier.auc': 0.01 }, { features: 3 });
    await promotion.setPolicy(systemPrincipal, 'prj_1', 'm', {
      yaml: 'protected_aliases: [champion]\nchecks:\n  max_segment_gap: { metrics: { auc: 0.05 } }\n  signature_compatible: true',
    });
    const ok = await move(1);
    expect(ok.checks?.map((c) => [c.name, c.passed])).toEqual([
      ['max_segment_gap.carrier.auc', true],
      ['max_segment_gap.origin.auc', true],
      ['signature_compatible', true],
    ]);
    expect((await refusal(move(2))).details).toMatchObject({ failed: ['max_segment_gap.origin.auc'] });
    expect((await refusal(move(3))).message).toContain('version 3 reports no gap.<segment>.auc metric');
    const sig = await refusal(move(4));
    expect(sig.details).toMatchObject({ failed: ['signature_compatible'] });
    expect(sig.message).toContain("callers of 'champion' (version 1) would break: input 'x': shape mismatch at dim 1");
  });

  it('needs approvals from deployers other than the proposer, per alias', async () => {
    const { promotion, register, move, refusal } = await setup();
    await register({ auc: 0.9 });
    await promotion.setPolicy(systemPrincipal, 'prj_1', 'm', {
      yaml: 'protected_aliases: [champion, production]\nchecks: { approvals: 2 }',
    });
    expect((await refusal(move(1))).message).toContain('0 of 2 approvals');
    expect((await refusal(promotion.approve(scientist, 'prj_1', 'm', 1, {}))).code).toBe('FORBIDDEN');
    const proposerDeployer = { ...scientist, role: 'deployer' as const };
    const own = await refusal(promotion.approve(proposerDeployer, 'prj_1', 'm', 1, {}));
    expect(own.code).toBe('FORBIDDEN');
    expect(own.message).toContain('cannot also approve it');
    const a = await promotion.approve(deployer, 'prj_1', 'm', 1, { alias: 'champion', comment: 'looks good' });
    expect(a).toMatchObject({ created: true, alias: 'champion', approver: 'key_dep', role: 'deployer' });
    expect(await promotion.approve(deployer, 'prj_1', 'm', 1, { alias: 'champion' })).toMatchObject({ created: false });
    await promotion.approve(deployer2, 'prj_1', 'm', 1, { alias: 'production' });
    expect((await refusal(move(1))).message).toContain('1 of 2 approvals');
    await promotion.approve(systemPrincipal, 'prj_1', 'm', 1, {}); // any protected alias
    const moved = await move(1);
    expect(moved.checks).toEqual([expect.objectContaining({ name: 'approvals', passed: true, value: 2, threshold: 2 })]);
    const report = await promotion.evaluate(deployer, 'prj_1', 'm', 1);
    expect(report.evaluations.map((e) => [e.alias, e.passed])).toEqual([
      ['champion', true],
      ['production', true],
    ]);
    expect(report.moves.map((m) => m.id)).toEqual([moved.id]);
    expect(report.approvals).toHaveLength(3);
  });
});
