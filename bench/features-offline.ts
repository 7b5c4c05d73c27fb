import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCatalog, getHistoricalFeatures, parseDefinitions } from '../src/features/index.ts';
import { type AnalyticsEngine, createAnalyticsEngine } from '../src/storage/index.ts';
import { flightsParquet } from '../test/helpers/flights.ts';
import { loadAverage, machineLine } from './lib/machine.ts';

/**
 * Issue 3 acceptance (a): historical retrieval of 3M entity rows (every flight) × 3 views, against
 * (1) a hand-written DuckDB ASOF join of the same views, and (2) the Feast-style query on DuckDB:
 * inner join on key and TTL window, then row_number() per entity row to keep the latest.
 */
const views = [
  { name: 'origin_hourly', key: ['origin'], ttl: '1 day', grain: 'hour' },
  { name: 'dest_hourly', key: ['destination'], ttl: '1 day', grain: 'hour' },
  { name: 'route_daily', key: ['origin', 'destination'], ttl: '7 days', grain: 'day' },
];

async function timed<T>(label: string, fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  process.stderr.write(`  ${label}: ${(ms / 1000).toFixed(2)} s\n`);
  return { ms, value };
}

async function prepare(engine: AnalyticsEngine, dir: string, rows: number): Promise<void> {
  for (const v of views) {
    const keys = v.key.join(', ');
    // Each feature row is stamped at the end of its period: it is known only once the period is over.
    await engine.run(`COPY (
      SELECT ${keys}, date_trunc('${v.grain}', date) + INTERVAL 1 ${v.grain} AS ts, avg(delay) AS avg_delay, count(*) AS flights, avg(distance) AS avg_distance
      FROM read_parquet('${flightsParquet}') GROUP BY ALL ORDER BY ts) TO '${join(dir, `${v.name}.parquet`)}' (FORMAT parquet)`);
  }
  await engine.run(`COPY (SELECT origin, destination, date AS event_timestamp FROM read_parquet('${flightsParquet}') LIMIT ${rows})
    TO '${join(dir, 'entities.parquet')}' (FORMAT parquet)`);
}

function handWrittenAsof(dir: string, out: string): string {
  const selects = views.flatMap((v, i) =>
    ['avg_delay', 'flights', 'avg_distance'].map(
      (f) => `CASE WHEN v${i}.ts >= e.event_timestamp - INTERVAL '${v.ttl}' THEN v${i}.${f} END AS ${v.name}__${f}`,
    ),
  );
  const joins = views.map(
    (v, i) =>
      `ASOF LEFT JOIN read_parquet('${join(dir, `${v.name}.parquet`)}') v${i} ON ${v.key.map((k) => `e.${k} = v${i}.${k}`).join(' AND ')} AND e.event_timestamp >= v${i}.ts`,
  );
  return `COPY (SELECT e.*, ${selects.join(', ')} FROM read_parquet('${join(dir, 'entities.parquet')}') e ${joins.join(' ')}) TO '${out}' (FORMAT parquet)`;
}

function feastStyle(dir: string, out: string): string {
  const ctes = views.map(
    (v, i) => `v${i} AS (
      SELECT __row, avg_delay, flights, avg_distance FROM (
        SELECT e.__row, f.*, row_number() OVER (PARTITION BY e.__row ORDER BY f.ts DESC) AS rn
        FROM e JOIN read_parquet('${join(dir, `${v.name}.parquet`)}') f
          ON ${v.key.map((k) => `e.${k} = f.${k}`).join(' AND ')} AND f.ts <= e.event_timestamp AND f.ts >= e.event_timestamp - INTERVAL '${v.ttl}')
      WHERE rn = 1)`,
  );
  const selects = views.flatMap((v, i) => ['avg_delay', 'flights', 'avg_distance'].map((f) => `v${i}.${f} AS ${v.name}__${f}`));
  const joins = views.map((_, i) => `LEFT JOIN v${i} USING (__row)`);
  return `COPY (WITH e AS (SELECT row_number() OVER () AS __row, * FROM read_parquet('${join(dir, 'entities.parquet')}')), ${ctes.join(', ')}
    SELECT e.* EXCLUDE (__row), ${selects.join(', ')} FROM e ${joins.join(' ')} ORDER BY e.__row) TO '${out}' (FORMAT parquet)`;
}

/** Order-independent fingerprint of a result (row count and column sums), to check every method computed the same thing. */
async function fingerprint(engine: AnalyticsEngine, path: string): Promise<number[]> {
  const cols = views.flatMap((v) => ['avg_delay', 'flights', 'avg_distance'].map((f) => `${v.name}__${f}`));
  const [row] = await engine.all(
    `SELECT count(*) AS n, ${cols.map((c) => `sum(${c}) AS ${c}`).join(', ')} FROM read_parquet('${path}')`,
  );
  return Object.values(row ?? {}).map(Number);
}

/** Parallel sums add in any order, so equal results may differ in the last float digits. */
const sameSums = (a: number[], b: number[]) =>
  a.length === b.length && a.every((x, i) => Math.abs(x - (b[i] ?? Number.NaN)) <= 1e-9 * Math.max(1, Math.abs(x)));

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const rows = quick ? 300_000 : 3_000_000;
  const skipFeast = args.includes('--no-feast');
  const engine = await createAnalyticsEngine();
  const dir = await mkdtemp(join(tmpdir(), 'keel-bench-offline-'));
  try {
    process.stderr.write(`features-offline: ${rows.toLocaleString()} entity rows × ${views.length} views\n  ${machineLine()}\n`);
    await timed('prepare feature tables and entity frame', () => prepare(engine, dir, rows));
    const catalog = compileCatalog(
      parseDefinitions({
        entities: [
          { name: 'origin', join_keys: [{ name: 'origin' }] },
          { name: 'destination', join_keys: [{ name: 'destination' }] },
          { name: 'route', join_keys: [{ name: 'origin' }, { name: 'destination' }] },
        ],
        sources: views.map((v) => ({ name: v.name, path: join(dir, `${v.name}.parquet`), timestamp_field: 'ts' })),
        feature_views: views.map((v) => ({
          name: v.name,
          entities: [v.key.length === 2 ? 'route' : v.key[0] === 'origin' ? 'origin' : 'destination'],
          source: v.name,
          ttl: v.ttl === '1 day' ? '1d' : '7d',
          features: [
            { name: 'avg_delay', type: 'float64' },
            { name: 'flights', type: 'int64' },
            { name: 'avg_distance', type: 'float64' },
          ],
        })),
        feature_services: [{ name: 'bench', features: views.map((v) => `${v.name}:*`) }],
      }),
    );
    const service = catalog.services.get('bench');
    if (!service) throw new Error('no service');
    const keelOut = join(dir, 'keel.parquet');
    const asofOut = join(dir, 'asof.parquet');
    const feastOut = join(dir, 'feast.parquet');
    // Warm the file cache once so the first measured method is not penalised.
    await engine.all(`SELECT count(*) FROM read_parquet('${join(dir, 'entities.parquet')}')`);
    const keel = await timed('Keel getHistoricalFeatures', () =>
      getHistoricalFeatures(engine, {
        catalog,
        service,
        transforms: [],
        entities: { parquet: join(dir, 'entities.parquet') },
        output: keelOut,
      }),
    );
    const asof = await timed('hand-written ASOF JOIN', () => engine.run(handWrittenAsof(dir, asofOut)));
    const feast = skipFeast ? null : await timed('Feast-style join + row_number()', () => engine.run(feastStyle(dir, feastOut)));
    const prints = [
      await fingerprint(engine, keelOut),
      await fingerprint(engine, asofOut),
      ...(feast ? [await fingerprint(engine, feastOut)] : []),
    ];
    const same = prints.every((p) => sameSums(p, prints[0] ?? []));
    const line = (name: string, ms: number, ratio: string) => `| ${name} | ${(ms / 1000).toFixed(2)} s | ${ratio} |`;
    const out = [
      '',
      `rows: ${rows.toLocaleString()} entity rows × ${views.length} views (${keel.value.columns.length} columns); results identical: ${same ? 'yes' : 'NO'}`,
      '| method | time | ratio |',
      '|---|---|---|',
      line('Keel (timelines + ASOF JOIN)', keel.ms, '1.00×'),
      line(
        'hand-written ASOF JOIN (baseline)',
        asof.ms,
        `Keel/ASOF = ${(keel.ms / asof.ms).toFixed(2)}× (target ≤ 1.5×: ${keel.ms / asof.ms <= 1.5 ? 'PASS' : 'MISS'})`,
      ),
      ...(feast
        ? [
            line(
              'Feast-style join + row_number()',
              feast.ms,
              `Feast/Keel = ${(feast.ms / keel.ms).toFixed(2)}× (target ≥ 3×: ${feast.ms / keel.ms >= 3 ? 'PASS' : 'MISS'})`,
            ),
          ]
        : []),
      `load average ${loadAverage()}; command: npm run bench -- features-offline${quick ? ' --quick' : ''}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    if (!same) {
      process.stderr.write(`fingerprints differ:\n${prints.map((p) => p.join(' ')).join('\n')}\n`);
      process.exitCode = 1;
    }
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}
