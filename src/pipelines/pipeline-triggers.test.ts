import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Principal, systemPrincipal } from '../auth/index.ts';
import { MemoryEventBus } from '../storage/index.ts';
import { setUpPipelines } from './pipeline-test-kit.ts';
import { PipelineTriggers } from './pipeline-triggers.ts';
import type { StepKind } from './step-kind.ts';

const noop: StepKind = { kind: 'noop', version: '1', execute: async () => ({ values: { ok: true } }) };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(`${tmpdir()}/keel-triggers-`);
});
let stopAll: (() => Promise<void>) | undefined;
afterEach(async () => {
  // Runs a trigger started may still be writing into `dir`.
  await stopAll?.();
  stopAll = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function setUp(principals: Record<string, Principal | null> = { system: systemPrincipal }, delayMs = 0) {
  const kit = await setUpPipelines(dir, [noop]);
  const bus = new MemoryEventBus();
  const triggers = new PipelineTriggers({
    service: kit.service,
    store: kit.store,
    bus,
    logger: kit.logger,
    principalFor: async (id) => {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return principals[id] ?? null;
    },
  });
  kit.service.afterApply = () => triggers.sync();
  await triggers.start();
  stopAll = async () => {
    await triggers.stop();
    await kit.service.drain();
  };
  const runsOf = async (name: string) => kit.service.listRuns(systemPrincipal, 'prj_1', name);
  const until = async (name: string, n: number) => {
    for (let i = 0; i < 400 && (await runsOf(name)).length < n; i++) await new Promise((r) => setTimeout(r, 25));
    return runsOf(name);
  };
  return { ...kit, bus, triggers, runsOf, until };
}

const spec = (name: string, triggers: unknown[]) => ({ name, triggers, steps: [{ name: 'a', kind: 'noop' }] });

describe('PipelineTriggers', () => {
  it('starts a run on a new version of the named dataset, and only that dataset', async () => {
    const t = await setUp();
    await t.service.apply(systemPrincipal, 'prj_1', spec('on-data', [{ dataset: 'flights' }]), null);
    const event = (dataset: string, projectId = 'prj_1') =>
      t.bus.publish({ topic: 'dataset.version.created', projectId, payload: { dataset, version: 'dsv_1' }, at: 0 });
    await event('other');
    await event('flights', 'prj_other');
    await event('flights');
    const runs = await t.until('on-data', 1);
    expect(runs.map((r) => r.trigger)).toEqual(['dataset:flights@dsv_1']);
    await t.triggers.stop();
  });

  it('starts a run on a bus event with its topic', async () => {
    const t = await setUp();
    await t.service.apply(systemPrincipal, 'prj_1', spec('on-event', [{ event: 'monitoring.retrain' }]), null);
    await t.bus.publish({ topic: 'monitoring.drift', projectId: 'prj_1', payload: {}, at: 0 });
    await t.bus.publish({ topic: 'monitoring.retrain', projectId: 'prj_1', payload: {}, at: 0 });
    expect((await t.until('on-event', 1)).map((r) => r.trigger)).toEqual(['event:monitoring.retrain']);
    await t.triggers.stop();
  });

  it('runs on a cron schedule, and reports the next times', async () => {
    const t = await setUp();
    await t.service.apply(systemPrincipal, 'prj_1', spec('every-second', [{ cron: '* * * * * *' }]), null);
    expect(t.triggers.nextRuns('prj_1', 'every-second').length).toBe(1);
    const runs = await t.until('every-second', 1);
    await t.triggers.stop();
    expect(runs[0]?.trigger).toBe('cron:* * * * * *');
  });

  it('skips a trigger when the key that applied the pipeline is gone', async () => {
    const t = await setUp({});
    await t.service.apply(systemPrincipal, 'prj_1', spec('orphan', [{ event: 'go' }]), null);
    await t.bus.publish({ topic: 'go', projectId: 'prj_1', payload: {}, at: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await t.runsOf('orphan')).toEqual([]);
    await t.triggers.stop();
  });

  it('stop() waits for a trigger that is still starting its run', async () => {
    const t = await setUp({ system: systemPrincipal }, 50);
    await t.service.apply(systemPrincipal, 'prj_1', spec('slow', [{ event: 'go' }]), null);
    void t.bus.publish({ topic: 'go', projectId: 'prj_1', payload: {}, at: 0 });
    await new Promise((r) => setTimeout(r, 5));
    await t.triggers.stop();
    expect((await t.runsOf('slow')).map((r) => r.trigger)).toEqual(['event:go']);
  });
});
