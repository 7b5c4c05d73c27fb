import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileCatalog, type FeatureCatalog } from '../../src/features/feature-catalog.ts';
import { parseDefinitions } from '../../src/features/load-definitions.ts';
import { getHistoricalFeatures } from '../../src/features/offline/historical-retrieval.ts';
import { loadTransforms } from '../../src/features/transforms.ts';
import { type AnalyticsEngine, createAnalyticsEngine } from '../../src/storage/index.ts';
import { flightsParquet, writeFlightsSlice } from '../helpers/flights.ts';

/**
 * `KEEL_FLIGHTS_FULL=1` runs the same checks on all 3M flights (every flight of Jan–Jun 2001 is an
 * entity row); by default a 10-day slice keeps `npm test` fast on two cores.
 */
const full = process.env.KEEL_FLIGHTS_FULL === '1';
const timeout = full ? 900_000 : 120_000;
const window = full
  ? { from: '2001-01-01', to: '2001-07-01', start: Date.UTC(2001, 0, 1), end: Date.UTC(2001, 6, 1) }
  : { from: '2001-01-01', to: '2001-01-11', start: Date.UTC(2001, 0, 3), end: Date.UTC(2001, 0, 11) };

/**
 * Point-in-time retrieval on real flights, checked against independent SQL written here: plain
 * correlated subqueries with the semantics spelled out, no ASOF joins, no shared code.
 */
describe('historical retrieval on flights', () => {
  let engine: AnalyticsEngine;
  let dir: string;
  let catalog: FeatureCatalog;
  let slice: string;
  let out: string;

  beforeAll(async () => {
    engine = await createAnalyticsEngine({ threads: 2 });
    dir = await mkdtemp(join(tmpdir(), 'keel-hist-'));
    slice = full ? flightsParquet : join(dir, 'flights.parquet');
    if (!full) await writeFlightsSlice(engine, slice, window.from, window.to);
    const yaml = parse(await readFile('examples/flights/features.yaml', 'utf8'));
    yaml.sources[0].path = slice;
    yaml.transforms[0].module = resolve('examples/flights/transforms.ts');
    catalog = compileCatalog(parseDefinitions(yaml));
    out = join(dir, 'training.parquet');
    const service = catalog.services.get('delay_model');
    if (!service) throw new Error('no service');
    const result = await getHistoricalFeatures(engine, {
      catalog,
      service,
      transforms: await loadTransforms(service.transforms),
      entities: { range: { start: window.start, end: window.end } },
      output: out,
    });
    expect(result.columns).toEqual(
      expect.arrayContaining([
        'origin',
        'destination',
        'event_timestamp',
        'origin_delays__delay_mean_1h',
        'route_profile__distance',
        'hour',
      ]),
    );
    await engine.run(`CREATE TABLE got AS SELECT row_number() OVER () AS i, * FROM read_parquet('${out}')`);
  }, 900_000);
  afterAll(async () => engine?.close());

  it(
    'returns one row per entity row, in order',
    async () => {
      const [n] = await engine.all(`SELECT count(*) AS n, min(event_timestamp) AS lo FROM got`);
      const [expected] = await engine.all(
        `SELECT count(*) AS n FROM read_parquet('${slice}') WHERE date BETWEEN epoch_ms(${window.start}) AND epoch_ms(${window.end})`,
      );
      expect(n?.n).toBe(expected?.n);
      const [ordered] = await engine.all(
        `SELECT bool_and(ok) AS ok FROM (SELECT event_timestamp >= lag(event_timestamp) OVER (ORDER BY i) AS ok FROM got)`,
      );
      expect(ordered?.ok).toBe(true);
    },
    timeout,
  );

  it(
    'matches an independent query on 1,000 random rows',
    async () => {
      await engine.run(`CREATE TABLE sample AS SELECT * FROM got USING SAMPLE 1000 ROWS (reservoir, 42)`);
      await engine.run(
        `CREATE TABLE src AS SELECT *, greatest(date, date + to_minutes(greatest(delay, 0)::BIGINT)) AS known FROM read_parquet('${slice}')`,
      );
      const rows = await engine.all(`
      SELECT s.i,
        s.origin_delays__delay_mean_1h AS got_o1, (SELECT avg(delay) FROM src WHERE src.origin = s.origin AND known <= s.event_timestamp AND known > s.event_timestamp - INTERVAL 1 HOUR) AS want_o1,
        s.origin_delays__delay_count_7d AS got_c7, (SELECT count(delay) FROM src WHERE src.origin = s.origin AND known <= s.event_timestamp AND known > s.event_timestamp - INTERVAL 7 DAY) AS want_c7,
        s.origin_delays__delay_max_24h AS got_x24, (SELECT max(delay) FROM src WHERE src.origin = s.origin AND known <= s.event_timestamp AND known > s.event_timestamp - INTERVAL 24 HOUR) AS want_x24,
        s.destination_delays__delay_mean_24h AS got_d24, (SELECT avg(delay) FROM src WHERE src.destination = s.destination AND known <= s.event_timestamp AND known > s.event_timestamp - INTERVAL 24 HOUR) AS want_d24,
        s.route_profile__last_delay AS got_last,
        (SELECT delay FROM src WHERE src.origin = s.origin AND src.destination = s.destination AND known <= s.event_timestamp AND date >= s.event_timestamp - INTERVAL 30 DAY
          ORDER BY date DESC, distance DESC, delay DESC LIMIT 1) AS want_last,
        s.hour AS got_hour, hour(s.event_timestamp) AS want_hour
      FROM sample s`);
      expect(rows).toHaveLength(1000);
      const close = (a: unknown, b: unknown) => (a === null || b === null ? a === b : Math.abs(Number(a) - Number(b)) < 1e-9);
      const mismatches = rows.filter(
        (r) =>
          !close(r.got_o1, r.want_o1) ||
          !close(r.got_c7, r.want_c7) ||
          !close(r.got_x24, r.want_x24) ||
          !close(r.got_d24, r.want_d24) ||
          !close(r.got_last, r.want_last) ||
          !close(r.got_hour, r.want_hour),
      );
      expect(mismatches.slice(0, 3)).toEqual([]);
      // The sample must exercise the interesting cases, not only empty windows.
      expect(rows.filter((r) => r.want_o1 !== null).length).toBeGreaterThan(100);
      expect(rows.filter((r) => r.want_last !== null).length).toBeGreaterThan(100);
    },
    timeout,
  );

  it(
    'never uses a value from after the entity time',
    async () => {
      // The flight itself departs at T but its delay is known only at T + delay: it must not count.
      const [leak] = await engine.all(`
      SELECT count(*) AS n FROM got g
      WHERE g.origin_delays__delay_count_1h > (
        SELECT count(*) FROM src WHERE src.origin = g.origin AND src.known <= g.event_timestamp AND src.known > g.event_timestamp - INTERVAL 1 HOUR)`);
      expect(leak?.n).toBe(0);
    },
    timeout,
  );

  it('hides rows created after the entity time (late backfills)', async () => {
    const late = join(dir, 'late.parquet');
    // Route ATL→ORD: a correction for Jan 5 10:00 written on Jan 9. Before Jan 9 it must be invisible.
    await engine.run(`COPY (
      SELECT TIMESTAMP '2001-01-05 10:00' AS date, 999 AS delay, 606 AS distance, 'ATL' AS origin, 'ORD' AS destination, TIMESTAMP '2001-01-09 00:00' AS created
      UNION ALL SELECT TIMESTAMP '2001-01-05 09:00', 5, 606, 'ATL', 'ORD', TIMESTAMP '2001-01-05 09:00') TO '${late}' (FORMAT parquet)`);
    const defs = parseDefinitions({
      entities: [{ name: 'route', join_keys: [{ name: 'origin' }, { name: 'destination' }] }],
      sources: [{ name: 'late', path: late, timestamp_field: 'date', created_timestamp_field: 'created' }],
      feature_views: [{ name: 'r', entities: ['route'], source: 'late', features: [{ name: 'delay', type: 'float64' }] }],
      feature_services: [{ name: 's', features: ['r:delay'] }],
    });
    const cat = compileCatalog(defs);
    const frame = join(dir, 'late-out.parquet');
    await getHistoricalFeatures(engine, {
      catalog: cat,
      service: cat.services.get('s') as never,
      transforms: [],
      entities: {
        rows: ['2001-01-05 08:00', '2001-01-05 11:00', '2001-01-08 23:59', '2001-01-09 00:00'].map((t) => ({
          origin: 'ATL',
          destination: 'ORD',
          event_timestamp: t,
        })),
      },
      output: frame,
    });
    const got = await engine.all(`SELECT r__delay AS d FROM read_parquet('${frame}')`);
    expect(got.map((r) => r.d)).toEqual([null, 5, 5, 999]);
    await writeFile(join(dir, 'done'), '');
  });
});
