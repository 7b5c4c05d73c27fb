import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { systemPrincipal } from '../auth/index.ts';
import { type AppError, ManualClock } from '../core/index.ts';
import { FakeBlobStore } from '../storage/index.ts';
import { memoryTransactor } from '../stores.ts';
import { TrackingService } from '../tracking/index.ts';
import { buildLinearModel } from './onnx/index.ts';
import { type AliasGate, RegistryService } from './registry-service.ts';

async function setup(gates: AliasGate[] = []) {
  const clock = new ManualClock(1_000);
  const tx = memoryTransactor();
  await tx.stores.projects.create({ id: 'prj_1', name: 'default', description: '', createdAt: 0, createdBy: 'system' });
  const blobs = new FakeBlobStore();
  const tracking = new TrackingService(tx, blobs, clock, { artifactBytes: 1e9 });
  const registry = new RegistryService(tx, blobs, tracking, clock, { modelBytes: 1e9 }, gates);
  const model = buildLinearModel({ features: 2, weights: [1, 2], bias: 0 });
  const register = () =>
    registry.registerVersion(systemPrincipal, {
      projectId: 'prj_1',
      model: 'm',
      source: { kind: 'upload', body: Readable.from([Buffer.from(model)]) },
    });
  return { clock, tx, registry, register };
}

const move = (r: RegistryService, version: number | null, reason = '') =>
  r.moveAlias(systemPrincipal, { projectId: 'prj_1', model: 'm', alias: 'champion', version, reason });

describe('RegistryService aliases', () => {
  it('answers where an alias pointed at any time, including moves in the same millisecond', async () => {
    const { clock, registry, register } = await setup();
    await register();
    await register();
    await register();
    clock.set(5_000);
    const a = await move(registry, 1, 'first');
    const b = await move(registry, 2, 'same ms');
    expect(b.at).toBeGreaterThan(a.at);
    clock.set(9_000);
    await move(registry, 3);
    clock.set(12_000);
    const del = await move(registry, null, 'retired');
    expect(del).toMatchObject({ fromVersion: 3, toVersion: null });
    const at = async (t: number) => (await registry.aliasAt(systemPrincipal, 'prj_1', 'm', 'champion', t)).version;
    expect(await at(4_999)).toBeNull();
    expect(await at(a.at)).toBe(1);
    expect(await at(b.at)).toBe(2);
    expect(await at(8_999)).toBe(2);
    expect(await at(9_000)).toBe(3);
    expect(await at(12_000)).toBeNull();
    const history = await registry.aliasHistory(systemPrincipal, 'prj_1', 'm', 'champion');
    expect(history.map((h) => [h.fromVersion, h.toVersion, h.reason])).toEqual([
      [null, 1, 'first'],
      [1, 2, 'same ms'],
      [2, 3, ''],
      [3, null, 'retired'],
    ]);
  });

  it('refuses unknown versions, bad alias names and a delete of a missing alias', async () => {
    const { registry, register } = await setup();
    await register();
    const code = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as AppError).code;
    expect(await code(move(registry, 7))).toBe('NOT_FOUND');
    expect(await code(move(registry, null))).toBe('NOT_FOUND');
    for (const alias of ['Champion', 'latest', 'v2', '1x', '', 'a'.repeat(65)]) {
      expect(await code(registry.moveAlias(systemPrincipal, { projectId: 'prj_1', model: 'm', alias, version: 1 }))).toBe(
        'VALIDATION_FAILED',
      );
    }
  });

  it('runs gates inside the move and keeps their checks; a failed gate changes nothing', async () => {
    let allow = false;
    const gate: AliasGate = {
      check: async ({ target }) => [{ name: 'auc>=0.8', passed: allow, value: target?.version ?? null, threshold: 0.8 }],
    };
    const { registry, register, tx } = await setup([gate]);
    await register();
    const refused = (await move(registry, 1).catch((e: unknown) => e)) as AppError;
    expect(refused.code).toBe('GATE_FAILED');
    expect(refused.details).toMatchObject({ checks: [{ name: 'auc>=0.8', passed: false }] });
    expect(await registry.aliasHistory(systemPrincipal, 'prj_1', 'm')).toEqual([]);
    const audits = await tx.stores.audit.list({ action: 'model.alias.move' }, 10);
    expect(audits.items).toEqual([]);
    allow = true;
    const ok = await move(registry, 1);
    expect(ok.checks).toEqual([{ name: 'auc>=0.8', passed: true, value: 1, threshold: 0.8 }]);
  });
});
