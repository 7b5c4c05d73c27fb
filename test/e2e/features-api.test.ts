import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KeelClient } from '../../src/client/index.ts';
import { createAnalyticsEngine } from '../../src/storage/index.ts';
import { writeFlightsSlice } from '../helpers/flights.ts';
import { type KeelProcess, spawnKeel } from '../helpers/server-process.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

async function flightsDefinitions(dir: string, from: string, to: string) {
  const engine = await createAnalyticsEngine({ threads: 2 });
  const slice = join(dir, `flights-${from}.parquet`);
  await writeFlightsSlice(engine, slice, from, to);
  await engine.close();
  const defs = parse(await readFile('examples/flights/features.yaml', 'utf8'));
  defs.sources[0].path = slice;
  defs.transforms[0].module = resolve('examples/flights/transforms.ts');
  return defs;
}

const code = async (p: Promise<unknown>) => (await p.catch((e: unknown) => e)) as { code: string; status: number };

describe('feature store over HTTP', () => {
  let keel: TestKeel;
  let client: KeelClient;
  let dir: string;
  let defs: Awaited<ReturnType<typeof flightsDefinitions>>;
  beforeAll(async () => {
    keel = await startTestKeel();
    client = new KeelClient({ url: keel.url, apiKey: keel.adminKey ?? '' });
    dir = await mkdtemp(join(tmpdir(), 'keel-feat-api-'));
    defs = await flightsDefinitions(dir, '2001-01-01', '2001-01-04');
  }, 60_000);
  afterAll(async () => {
    await keel.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('plans, applies, versions and prunes definitions', async () => {
    const plan = await client.features.apply(defs, { dryRun: true });
    expect(plan.applied).toBe(false);
    expect(plan.changes.every((c) => c.action === 'create')).toBe(true);
    expect((await client.features.objects()).objects).toEqual([]);
    await client.features.apply(defs);
    const again = await client.features.apply(defs);
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
    const changed = structuredClone(defs);
    changed.feature_views[2].ttl = '10d';
    changed.feature_views.push({
      name: 'extra',
      entities: ['origin'],
      source: 'flights',
      features: [{ name: 'distance', type: 'float64' }],
    });
    const update = await client.features.apply(changed);
    expect(update.changes.filter((c) => c.action !== 'unchanged').map((c) => [c.action, c.name, c.version])).toEqual([
      ['update', 'route_profile', 2],
      ['create', 'extra', 1],
    ]);
    // Without --prune a removed object stays; with it, it is deleted.
    expect((await client.features.apply(defs)).changes.some((c) => c.action === 'delete')).toBe(false);
    const pruned = await client.features.apply(defs, { prune: true });
    expect(pruned.changes.filter((c) => c.action === 'delete').map((c) => c.name)).toEqual(['extra']);
    const objects = (await client.features.objects()).objects;
    expect(objects.find((o) => o.name === 'route_profile')?.version).toBe(3);
    expect(objects.find((o) => o.name === 'extra')?.deletedAt).not.toBeNull();
  });

  it('materializes, serves online with statuses, and takes pushed rows', async () => {
    const entity = { origin: 'ATL', destination: 'ORD', event_timestamp: '2001-01-03T12:00:00Z' };
    const before = await client.features.online({ service: 'delay_model', entities: [entity] });
    expect(before.rows[0]?.statuses.slice(0, -2).every((s) => s === 'NOT_FOUND')).toBe(true);
    let job = await client.features.materialize({ start: Date.UTC(2001, 0, 1), end: Date.UTC(2001, 0, 4) });
    while (job.status === 'running') job = await client.features.job(job.id);
    expect(job.status).toBe('succeeded');
    expect(job.views.every((v) => v.done && v.written > 0)).toBe(true);
    const after = await client.features.online({ service: 'delay_model', entities: [entity], maxAge: '100000d' });
    const row = after.rows[0];
    const col = (name: string) => after.features.indexOf(name);
    expect(row?.statuses[col('origin_delays__delay_count_24h')]).toBe('PRESENT');
    expect(row?.values[col('origin_delays__delay_count_24h')]).toBeGreaterThan(0);
    expect(row?.values[col('hour')]).toBe(12);
    // Served now (2026), the route's 10-day TTL has long passed: withheld, not served stale.
    const stale = await client.features.online({ features: ['route_profile:distance'], entities: [entity] });
    expect(stale.rows[0]).toMatchObject({ values: [null], statuses: ['OUTSIDE_MAX_AGE'] });
    await client.features.push('route_profile', [
      { origin: 'ATL', destination: 'ORD', event_timestamp: Date.now(), distance: 606, last_delay: 12 },
    ]);
    const pushed = await client.features.online({
      features: ['route_profile:distance', 'route_profile:last_delay'],
      entities: [entity],
    });
    expect(pushed.rows[0]).toMatchObject({ values: [606, 12], statuses: ['PRESENT', 'PRESENT'] });
    const missing = await client.features.online({
      features: ['route_profile:distance'],
      entities: [{ origin: 'XXX', destination: 'YYY' }],
    });
    expect(missing.rows[0]?.statuses).toEqual(['NOT_FOUND']);
    const status = (await client.features.status()).views;
    expect(status.find((v) => v.view === 'origin_delays')).toMatchObject({ watermark: Date.UTC(2001, 0, 4), stale: true });
    const metrics = await (await fetch(`${keel.url}/metrics`)).text();
    expect(metrics).toMatch(/keel_feature_view_stale\{project="default",view="origin_delays"\} 1/);
    expect(metrics).toMatch(/keel_feature_view_max_staleness_seconds\{project="default",view="origin_delays"\} 7200/);
    const age = Number(/keel_feature_view_staleness_seconds\{project="default",view="origin_delays"\} (\S+)/.exec(metrics)?.[1]);
    expect(age).toBeGreaterThan((Date.now() - Date.UTC(2001, 0, 4)) / 1000 - 60);
  });

  it('writes historical training data with the feature service version', async () => {
    const res = await client.features.historical({
      service: 'delay_model',
      range: { start: Date.UTC(2001, 0, 3), end: Date.UTC(2001, 0, 3, 6) },
    });
    expect(res.featureService).toBe('delay_model@1');
    expect(res.columns).toEqual(expect.arrayContaining(['origin', 'event_timestamp', 'origin_delays__delay_mean_1h', 'weekday']));
    const bytes = await client.features.download(res.id);
    expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('PAR1');
    expect(res.rows).toBeGreaterThan(100);
  });

  it('refuses bad input with clear 4xx errors', async () => {
    expect(
      await code(client.features.online({ features: ['route_profile:nope'], entities: [{ origin: 'A', destination: 'B' }] })),
    ).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(
      await code(client.features.online({ service: 'delay_model', entities: [{ origin: 7, destination: 'B' }] })),
    ).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(await code(client.features.online({ service: 'nope', entities: [{ origin: 'A' }] }))).toMatchObject({ status: 404 });
    expect(await code(client.features.apply({ entities: [{ name: 'Bad Name', join_keys: [] }] }))).toMatchObject({ status: 400 });
    const dup = { ...defs, entities: [...defs.entities, defs.entities[0]] };
    expect(await code(client.features.apply(dup))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    const dangling = structuredClone(defs);
    dangling.feature_services[0].features.push('ghost_view:*');
    expect(await code(client.features.apply(dangling))).toMatchObject({ status: 400 });
    expect(await code(client.features.push('origin_delays', [{ origin: 'ATL', event_timestamp: 1 }]))).toMatchObject({
      status: 400,
    });
    expect(await code(client.features.materialize({ start: 10, end: 5 }))).toMatchObject({ status: 400 });
  });
});

describe('materialization killed with SIGKILL', () => {
  let dir = '';
  const servers: KeelProcess[] = [];
  afterAll(async () => {
    for (const s of servers) await s.kill();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(server: KeelProcess, defs: unknown, waitForFirstView: boolean) {
    const client = new KeelClient({ url: server.url, apiKey: server.adminKey });
    let job = await client.features.materialize({ start: Date.UTC(2001, 0, 1), end: Date.UTC(2001, 1, 1) });
    while (job.status === 'running' && !(waitForFirstView && job.views[0]?.done)) {
      await new Promise((r) => setTimeout(r, 20));
      job = await client.features.job(job.id);
    }
    void defs;
    return job;
  }

  async function snapshot(server: KeelProcess, routes: { origin: string; destination: string }[]) {
    const client = new KeelClient({ url: server.url, apiKey: server.adminKey });
    const rows = [];
    for (let i = 0; i < routes.length; i += 500) {
      const res = await client.features.online({
        service: 'delay_model',
        entities: routes.slice(i, i + 500).map((r) => ({ ...r, event_timestamp: '2001-02-01T00:00:00Z' })),
        maxAge: '100000d',
      });
      rows.push(...res.rows.map((r) => ({ values: r.values, eventTimes: r.eventTimes })));
    }
    return rows;
  }

  it('converges on rerun to the state a clean run leaves', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-mat-kill-'));
    const defs = await flightsDefinitions(dir, '2001-01-01', '2001-02-01');
    const engine = await createAnalyticsEngine();
    const routes = await engine.all<{ origin: string; destination: string }>(
      `SELECT DISTINCT origin, destination FROM read_parquet('${defs.sources[0].path}') ORDER BY ALL`,
    );
    await engine.close();

    const crashed = await spawnKeel(join(dir, 'crashed'));
    servers.push(crashed);
    await new KeelClient({ url: crashed.url, apiKey: crashed.adminKey }).features.apply(defs);
    const partial = await run(crashed, defs, true);
    expect(partial.status).toBe('running');
    await crashed.kill();
    const restarted = await spawnKeel(join(dir, 'crashed'));
    servers.push(restarted);
    expect((await run(restarted, defs, false)).status).toBe('succeeded');

    const clean = await spawnKeel(join(dir, 'clean'));
    servers.push(clean);
    await new KeelClient({ url: clean.url, apiKey: clean.adminKey }).features.apply(defs);
    expect((await run(clean, defs, false)).status).toBe('succeeded');

    const [a, b] = await Promise.all([snapshot(restarted, routes), snapshot(clean, routes)]);
    expect(a.length).toBe(routes.length);
    expect(a).toEqual(b);
    expect(a.filter((r) => r.values.some((v) => v !== null)).length).toBeGreaterThan(routes.length / 2);
  }, 300_000);
});

describe('feature sources on registered dataset versions', () => {
  let keel: TestKeel;
  afterAll(async () => keel?.dispose());

  it('reads a dataset version as a source, only within its project', async () => {
    keel = await startTestKeel();
    const client = new KeelClient({ url: keel.url, apiKey: keel.adminKey ?? '' });
    const flights = resolve('node_modules/vega-datasets/data/flights-3m.parquet');
    const version = await client.data.register({
      name: 'flights-day',
      query: `SELECT * FROM read_parquet('${flights}') WHERE date < TIMESTAMP '2001-01-02'`,
    });
    const defs = {
      entities: [{ name: 'origin', join_keys: [{ name: 'origin' }] }],
      sources: [{ name: 'day', dataset: version.id, timestamp_field: 'date' }],
      feature_views: [
        {
          name: 'o',
          entities: ['origin'],
          source: 'day',
          aggregations: [{ column: 'delay', function: 'count', windows: ['24h'] }],
        },
      ],
      feature_services: [{ name: 's', features: ['o:*'] }],
    };
    await client.features.apply(defs);
    const res = await client.features.historical({
      service: 's',
      entities: [{ origin: 'ATL', event_timestamp: '2001-01-02T00:00:00Z' }],
    });
    expect(res.rows).toBe(1);
    // Another project cannot reach the version through a source of its own.
    await client.createProject('elsewhere');
    const elsewhere = new KeelClient({ url: keel.url, apiKey: keel.adminKey ?? '', project: 'elsewhere' });
    await elsewhere.features.apply(defs);
    expect(
      await code(
        elsewhere.features.historical({ service: 's', entities: [{ origin: 'ATL', event_timestamp: '2001-01-02T00:00:00Z' }] }),
      ),
    ).toMatchObject({
      status: 404,
    });
  }, 120_000);
});
