import { describe, expect, it } from 'vitest';
import { AppError, ManualClock } from '../../core/index.ts';
import type { RegistryService } from '../../registry/index.ts';
import { ModelResolver } from './model-resolver.ts';

type Versions = Awaited<ReturnType<RegistryService['listVersions']>>;

function version(n: number, aliases: string[] = []): Versions[number] {
  return {
    id: `mv_${n}`,
    modelId: 'mdl_1',
    version: n,
    source: 'upload',
    runId: null,
    artifactDigest: `sha256:${n}`,
    artifactSize: 10 * n,
    manifest: {
      format: 'onnx',
      signature: { inputs: [], outputs: [] },
      metrics: {},
      lineage: { runId: null, datasetDigests: [], codeVersion: null, featureService: null },
      tags: {},
      opsets: [],
      producer: 'keel',
    },
    description: '',
    createdAt: 0,
    createdBy: 'system',
    aliases,
  };
}

function fakeRegistry() {
  const state = { calls: 0, versions: [version(1), version(2)] as Versions, down: false };
  const registry: Pick<RegistryService, 'listModels' | 'listVersions'> = {
    listModels: async () => {
      if (state.down) throw new Error('database is down');
      return [{ name: 'm' }] as Awaited<ReturnType<RegistryService['listModels']>>;
    },
    listVersions: async (_actor, _project, name) => {
      state.calls++;
      if (state.down) throw new Error('database is down');
      if (name !== 'm') throw new AppError('NOT_FOUND', `model '${name}' does not exist`);
      return state.versions;
    },
  };
  return { state, registry };
}

/** Lets background refreshes that are already answered finish. */
const settle = () => new Promise((r) => setImmediate(r));

describe('ModelResolver', () => {
  it('serves the champion by default, else the latest version', async () => {
    const { state, registry } = fakeRegistry();
    const clock = new ManualClock(0);
    const resolver = new ModelResolver(registry, clock, 1000);
    expect((await resolver.model('p', 'm')).defaultVersion).toBe(2);
    state.versions = [version(1, ['champion']), version(2)];
    clock.advance(1000);
    // Past the TTL the last answer serves while the refresh runs; the next request sees its result.
    expect((await resolver.model('p', 'm')).defaultVersion).toBe(2);
    await settle();
    const m = await resolver.model('p', 'm');
    expect(m.defaultVersion).toBe(1);
    expect(m.versions.map((v) => [v.version, v.digest, v.size])).toEqual([
      [1, 'sha256:1', 10],
      [2, 'sha256:2', 20],
    ]);
  });

  it('reuses an answer for the TTL and shares one registry call among concurrent callers', async () => {
    const { state, registry } = fakeRegistry();
    const clock = new ManualClock(0);
    const resolver = new ModelResolver(registry, clock, 1000);
    await Promise.all([resolver.model('p', 'm'), resolver.model('p', 'm'), resolver.model('p', 'm')]);
    clock.advance(999);
    await resolver.model('p', 'm');
    expect(state.calls).toBe(1);
    clock.advance(1);
    await resolver.model('p', 'm');
    await resolver.model('p', 'm');
    expect(state.calls).toBe(2);
  });

  it('answers from the last known model while a refresh hangs, with one refresh in flight', async () => {
    const { state, registry } = fakeRegistry();
    const clock = new ManualClock(0);
    let reads = 0;
    const silent: typeof registry = {
      ...registry,
      // The first read answers; every later one never does (a database behind a network split).
      listVersions: (...args) => (reads++ === 0 ? registry.listVersions(...args) : new Promise<never>(() => undefined)),
    };
    const resolver = new ModelResolver(silent, clock, 10);
    await resolver.model('p', 'm');
    state.versions = [version(1)];
    for (let i = 0; i < 5; i++) {
      clock.advance(100);
      expect((await resolver.model('p', 'm')).defaultVersion).toBe(2);
    }
    expect(reads).toBe(2);
  });

  it('keeps the last answer when a refresh fails and retries only after another TTL', async () => {
    const { state, registry } = fakeRegistry();
    const clock = new ManualClock(0);
    const resolver = new ModelResolver(registry, clock, 10);
    await resolver.model('p', 'm');
    state.down = true;
    clock.advance(100);
    expect((await resolver.model('p', 'm')).defaultVersion).toBe(2);
    await settle();
    expect((await resolver.model('p', 'm')).defaultVersion).toBe(2);
    expect(state.calls).toBe(2);
    state.down = false;
    state.versions = [version(1)];
    clock.advance(10);
    await resolver.model('p', 'm');
    await settle();
    expect((await resolver.model('p', 'm')).defaultVersion).toBe(1);
  });

  it('keeps serving the last answer while the registry is unreachable, but forgets models that are gone', async () => {
    const { state, registry } = fakeRegistry();
    const clock = new ManualClock(0);
    const resolver = new ModelResolver(registry, clock, 10);
    await resolver.model('p', 'm');
    state.down = true;
    clock.advance(100);
    expect((await resolver.model('p', 'm')).defaultVersion).toBe(2);
    await expect(resolver.model('p', 'never-seen')).rejects.toThrow(/database is down/);
    state.down = false;
    await expect(resolver.model('p', 'gone')).rejects.toThrow(/does not exist/);
  });

  it('forgets a model whose background refresh finds it gone', async () => {
    const { registry } = fakeRegistry();
    const clock = new ManualClock(0);
    const resolver = new ModelResolver(registry, clock, 10);
    await resolver.model('p', 'm');
    registry.listVersions = async () => {
      throw new AppError('NOT_FOUND', "model 'm' does not exist");
    };
    clock.advance(100);
    expect((await resolver.model('p', 'm')).defaultVersion).toBe(2);
    await settle();
    await expect(resolver.model('p', 'm')).rejects.toThrow(/does not exist/);
  });
  it('lists the last known models of a project while the registry is down, and fails for a project never listed', async () => {
    const { state, registry } = fakeRegistry();
    const clock = new ManualClock(0);
    const resolver = new ModelResolver(registry, clock, 10);
    expect((await resolver.list('p')).map((m) => [m.name, m.defaultVersion])).toEqual([['m', 2]]);
    state.down = true;
    clock.advance(100);
    expect((await resolver.list('p')).map((m) => [m.name, m.defaultVersion])).toEqual([['m', 2]]);
    await expect(resolver.list('q')).rejects.toThrow(/database is down/);
  });

  it('during an outage leaves out a listed model it cannot resolve, and forgets one the registry calls gone', async () => {
    const { state, registry } = fakeRegistry();
    const existing = new Set(['m', 'b', 'c']);
    registry.listModels = async () => {
      if (state.down) throw new Error('database is down');
      return [...existing].map((name) => ({ name })) as Awaited<ReturnType<RegistryService['listModels']>>;
    };
    registry.listVersions = async (_actor, _project, name) => {
      if (state.down) throw new Error('database is down');
      if (!existing.has(name)) throw new AppError('NOT_FOUND', `model '${name}' does not exist`);
      return state.versions;
    };
    const clock = new ManualClock(0);
    const resolver = new ModelResolver(registry, clock, 10);
    expect((await resolver.list('p')).map((m) => m.name)).toEqual(['m', 'b', 'c']);
    // b is deleted and a request hears of it (its cache entry goes); c is deleted unseen.
    existing.delete('b');
    existing.delete('c');
    clock.advance(100);
    await resolver.model('p', 'b');
    await settle();
    await expect(resolver.model('p', 'b')).rejects.toThrow(/does not exist/);
    state.down = true;
    // b cannot be resolved now (no cached answer, no database): left out. c keeps its last answer.
    expect((await resolver.list('p')).map((m) => m.name)).toEqual(['m', 'c']);
    state.down = false;
    clock.advance(100);
    expect((await resolver.list('p')).map((m) => m.name)).toEqual(['m']);
  });
});
