import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileCatalog, type FeatureCatalog } from '../../src/features/feature-catalog.ts';
import { parseDefinitions } from '../../src/features/load-definitions.ts';
import { getHistoricalFeatures } from '../../src/features/offline/historical-retrieval.ts';
import { materializeView } from '../../src/features/offline/materialize.ts';
import { compileReadPlan, readOnlineFeatures } from '../../src/features/online/online-reader.ts';
import { loadTransforms } from '../../src/features/transforms.ts';
import { type AnalyticsEngine, createAnalyticsEngine } from '../../src/storage/index.ts';
import { MemoryOnlineStore } from '../../src/storage/kv/memory-online-store.ts';
import { writeFlightsSlice } from '../helpers/flights.ts';

/** Training-serving skew check: offline at T equals online after materializing up to T. */
describe('offline and online features agree', () => {
  let engine: AnalyticsEngine;
  let dir: string;
  let catalog: FeatureCatalog;

  beforeAll(async () => {
    engine = await createAnalyticsEngine({ threads: 2 });
    dir = await mkdtemp(join(tmpdir(), 'keel-skew-'));
    const slice = join(dir, 'flights.parquet');
    await writeFlightsSlice(engine, slice, '2001-01-01', '2001-01-05');
    const yaml = parse(await readFile('examples/flights/features.yaml', 'utf8'));
    yaml.sources[0].path = slice;
    yaml.transforms[0].module = resolve('examples/flights/transforms.ts');
    catalog = compileCatalog(parseDefinitions(yaml));
  }, 60_000);
  afterAll(async () => engine?.close());

  it('for sampled (route, T) pairs at several materialization times', async () => {
    const service = catalog.services.get('delay_model');
    if (!service) throw new Error('missing service');
    const transforms = await loadTransforms(service.transforms);
    const plan = compileReadPlan(catalog, service, transforms);
    const routes = await engine.all<{ origin: string; destination: string }>(
      `SELECT origin, destination, count(*) AS n FROM read_parquet('${join(dir, 'flights.parquet')}') GROUP BY ALL ORDER BY n DESC, origin, destination LIMIT 30`,
    );
    let compared = 0;
    let nonNull = 0;
    for (const t of [Date.UTC(2001, 0, 2, 6, 30), Date.UTC(2001, 0, 3, 17, 0), Date.UTC(2001, 0, 4, 23, 59)]) {
      const store = new MemoryOnlineStore();
      for (const view of catalog.views.values()) await materializeView(engine, store, view, { start: null, end: t });
      const entities = routes.map((r) => ({
        origin: r.origin,
        destination: r.destination,
        event_timestamp: new Date(t).toISOString(),
      }));
      const online = await readOnlineFeatures(store, plan, entities, { now: t });
      const out = join(dir, `offline-${t}.parquet`);
      await getHistoricalFeatures(engine, { catalog, service, transforms, entities: { rows: entities }, output: out });
      const offline = await engine.all(`SELECT * FROM read_parquet('${out}')`);
      expect(offline).toHaveLength(entities.length);
      offline.forEach((row, i) => {
        const got = online.rows[i];
        online.features.forEach((name, c) => {
          const want = row[name] ?? null;
          const value = got?.values[c] ?? null;
          if (typeof want === 'number' && typeof value === 'number') expect(value, `${name} @${t}`).toBeCloseTo(want, 9);
          else expect(value, `${name} @${t} row ${i}`).toEqual(want);
          compared++;
          if (value !== null) nonNull++;
        });
      });
    }
    expect(compared).toBeGreaterThan(30 * 3 * 10);
    // Mostly real values, not a comparison of empty results.
    expect(nonNull / compared).toBeGreaterThan(0.8);
  }, 120_000);
});
