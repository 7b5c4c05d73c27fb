import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnProfile, DatasetProfile } from '../../src/datasets/index.ts';
import { type AnalyticsEngine, createAnalyticsEngine } from '../../src/storage/index.ts';
import { ApiClient, type ApiResponse, errorOf, jsonOf, Seeder } from '../helpers/api-fixtures.ts';
import { flightsDayQuery } from '../helpers/flights.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

interface VersionBody {
  id: string;
  digest: string;
  rows: number;
  created: boolean;
  status: string;
  dataset: string;
  lineage: { parents: string[]; step: string | null };
  children?: string[];
  profile: DatasetProfile;
}

async function blobCount(dir: string): Promise<number> {
  const shards = await readdir(join(dir, 'blobs', 'sha256'));
  let n = 0;
  for (const s of shards) n += (await readdir(join(dir, 'blobs', 'sha256', s))).length;
  return n;
}

describe('datasets API on a day of real flights', () => {
  let keel: TestKeel;
  let api: ApiClient;
  let engine: AnalyticsEngine;
  const keys = { admin: '', scientist: '', viewer: '' };
  let flights: VersionBody;

  const call = (who: keyof typeof keys, method: string, path: string, json?: unknown): Promise<ApiResponse> =>
    api.request({ method, path: `/api/v1${path}`, key: keys[who], json });
  const register = (body: Record<string, unknown>, who: keyof typeof keys = 'scientist') => call(who, 'POST', '/datasets', body);

  beforeAll(async () => {
    keel = await startTestKeel();
    api = new ApiClient(keel.url);
    keys.admin = keel.adminKey as string;
    const seed = new Seeder(api, keys.admin);
    keys.scientist = (await seed.createKey('scientist', ['default'])).key;
    keys.viewer = (await seed.createKey('viewer', ['default'])).key;
    engine = await createAnalyticsEngine({ threads: 2 });
    const res = await register({ name: 'flights', source: { query: flightsDayQuery }, description: 'flights of 2001-01-01' });
    expect(res.status, res.raw.toString()).toBe(201);
    flights = jsonOf<VersionBody>(res);
  });
  afterAll(async () => {
    api?.close();
    await engine?.close();
    await keel?.dispose();
  });

  it('identifies a version by its content: same rows in any order and file layout give one version, stored once', async () => {
    expect(flights).toMatchObject({ created: true, rows: 14828, status: 'ok', dataset: 'flights' });
    expect(flights.id).toBe(`dsv_${flights.digest.slice(7, 31)}`);
    const blobs = await blobCount(keel.dataDir);
    const again = await register({ name: 'flights', source: { query: `${flightsDayQuery} ORDER BY delay DESC` } });
    expect(again.status).toBe(200);
    expect(jsonOf<VersionBody>(again)).toMatchObject({ id: flights.id, digest: flights.digest, created: false });
    // The same rows as two files in the server's imports folder, in another order, one of them CSV.
    const half = (cond: string, file: string, format: string) =>
      engine.run(`COPY (${flightsDayQuery} AND ${cond} ORDER BY distance) TO '${join(keel.dataDir, file)}' (FORMAT ${format})`);
    await half('delay < 10', 'imports/early.parquet', 'parquet');
    await half('delay >= 10', 'imports/late.csv', 'csv');
    const imports = join(keel.dataDir, 'imports');
    const files = await register({ name: 'flights', source: { files: [join(imports, '*.parquet'), join(imports, 'late.csv')] } });
    expect(jsonOf<VersionBody>(files)).toMatchObject({ id: flights.id, created: false });
    expect(await blobCount(keel.dataDir)).toBe(blobs);
    const versions = jsonOf<{ versions: { id: string }[] }>(await call('viewer', 'GET', '/datasets/flights')).versions;
    expect(versions.map((v) => v.id)).toEqual([flights.id]);
  });

  it('profiles every column exactly as an independent DuckDB query does', async () => {
    const profile = jsonOf<DatasetProfile & { version: string }>(
      await call('viewer', 'GET', `/datasets/versions/${flights.id}/profile`),
    );
    expect(profile.version).toBe(flights.id);
    const [expected] = await engine.all(`
      SELECT count(*) AS rows,
        min(delay) AS dmin, max(delay) AS dmax, avg(delay) AS dmean, stddev_samp(delay) AS dstd,
        quantile_cont(delay, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) AS dq,
        min(distance) AS smin, max(distance) AS smax, avg(distance) AS smean,
        count(*) - count(origin) AS onulls, approx_count_distinct(origin) AS odistinct,
        epoch_ms(min(date)) AS tmin, epoch_ms(max(date)) AS tmax
      FROM (${flightsDayQuery})`);
    const col = (name: string) => profile.columns.find((c) => c.name === name) as ColumnProfile;
    expect(profile.rows).toBe(expected?.rows);
    expect(profile.columns.map((c) => [c.name, c.type, c.kind])).toEqual([
      ['date', 'TIMESTAMP', 'temporal'],
      ['delay', 'BIGINT', 'numeric'],
      ['distance', 'BIGINT', 'numeric'],
      ['origin', 'VARCHAR', 'string'],
      ['destination', 'VARCHAR', 'string'],
    ]);
    const delay = col('delay');
    expect([delay.min, delay.max]).toEqual([expected?.dmin, expected?.dmax]);
    expect(delay.mean).toBeCloseTo(expected?.dmean as number, 9);
    expect(delay.std).toBeCloseTo(expected?.dstd as number, 9);
    expect(Object.values(delay.quantiles ?? {})).toEqual(expected?.dq);
    expect([col('distance').min, col('distance').max]).toEqual([expected?.smin, expected?.smax]);
    expect(col('distance').mean).toBeCloseTo(expected?.smean as number, 9);
    expect(col('origin')).toMatchObject({ nullCount: expected?.onulls, nullRate: 0, distinct: expected?.odistinct });
    expect([col('date').min, col('date').max]).toEqual([
      new Date(expected?.tmin as number).toISOString(),
      new Date(expected?.tmax as number).toISOString(),
    ]);
    const top = await engine.all(
      `SELECT origin AS value, count(*) AS count FROM (${flightsDayQuery}) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
    );
    expect(col('origin').topValues).toEqual(top);
    expect(delay.topValues).toBeUndefined();
  });

  it('derives a version with a query over a dataset name, recording lineage both ways', async () => {
    const res = await register({
      name: 'late-flights',
      source: { query: 'SELECT * FROM flights WHERE delay > 15' },
      lineage: { step: 'filter-late' },
    });
    expect(res.status, res.raw.toString()).toBe(201);
    const late = jsonOf<VersionBody>(res);
    const [count] = await engine.all(`SELECT count(*) AS n FROM (${flightsDayQuery}) WHERE delay > 15`);
    expect(late.rows).toBe(count?.n);
    expect(late.lineage).toMatchObject({ parents: [flights.id], step: 'filter-late' });
    const parent = jsonOf<VersionBody>(await call('viewer', 'GET', `/datasets/versions/${flights.id}`));
    expect(parent.children).toEqual([late.id]);
    const list = jsonOf<{ datasets: { name: string; versions: number }[] }>(await call('viewer', 'GET', '/datasets'));
    expect(list.datasets.map((d) => [d.name, d.versions])).toEqual([
      ['flights', 1],
      ['late-flights', 1],
    ]);
  });

  it('resolves the Parquet file of a version for other modules to read in place', async () => {
    const path = await keel.ctx.datasets.resolveDatasetPath(flights.id);
    const [row] = await engine.all(`SELECT count(*) AS n FROM read_parquet('${path}')`);
    expect(row?.n).toBe(14828);
    await expect(keel.ctx.datasets.resolveDatasetPath('dsv_000000000000000000000000')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('lets viewers read but not register, and audits every registration', async () => {
    expect((await call('viewer', 'GET', `/datasets/versions/${flights.id}`)).status).toBe(200);
    const refused = await register({ name: 'nope', source: { query: 'SELECT 1 AS x' } }, 'viewer');
    expect([refused.status, errorOf(refused)?.code]).toEqual([403, 'FORBIDDEN']);
    const audit = jsonOf<{ events: { action: string; after: { version?: string } }[] }>(
      await call('admin', 'GET', '/audit?action=dataset.version.create'),
    );
    expect(audit.events.map((e) => e.after.version)).toContain(flights.id);
  });

  it('answers bad input with stable 4xx codes', async () => {
    // Keel's own files: a Parquet file in the data dir outside imports/, the admin key, a blob.
    await engine.run(`COPY (SELECT 1 AS x) TO '${join(keel.dataDir, 'private.parquet')}' (FORMAT parquet)`);
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: 'x', source: { files: [join(keel.dataDir, 'private.parquet')] } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { files: [join(keel.dataDir, 'admin.key')] } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { files: [join(keel.dataDir, 'blobs', 'sha256', '**', '*')] } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { query: `SELECT * FROM '${join(keel.dataDir, 'private.parquet')}'` } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { files: ['/etc/passwd'] } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { files: ['/etc/*.csv'] } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { files: [join(keel.dataDir, 'imports', 'missing.parquet')] } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { query: "SELECT * FROM read_csv('/etc/passwd')" } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { query: "SELECT * FROM '/etc/hosts.csv'" } }, 400, 'INVALID_PATH'],
      [{ name: 'x', source: { query: "SELECT * FROM read_text('/etc/passwd')" } }, 400, 'BAD_REQUEST'],
      [{ name: 'x', source: { query: "COPY (SELECT 1) TO '/tmp/x.csv'" } }, 400, 'BAD_REQUEST'],
      [{ name: 'x', source: { query: 'SELECT * FROM no_such_dataset' } }, 400, 'BAD_REQUEST'],
      [{ name: 'x', source: { upload: `sha256:${'0'.repeat(64)}` } }, 404, 'NOT_FOUND'],
      [{ name: 'versions', source: { query: 'SELECT 1 AS x' } }, 400, 'VALIDATION_FAILED'],
      [
        { name: 'x', source: { query: 'SELECT 1 AS x' }, lineage: { parents: ['dsv_000000000000000000000000'] } },
        404,
        'NOT_FOUND',
      ],
      [{ name: 'other-name', source: { query: flightsDayQuery } }, 409, 'ALREADY_EXISTS'],
      [{ name: 'x', source: { query: 'SELECT 1 AS x' }, contractYaml: 'name: x\nfields: {a: [' }, 400, 'INVALID_CONTRACT'],
      [
        { name: 'x', source: { query: 'SELECT 1 AS x' }, contractYaml: 'name: x\nfields: { x: { type: integer } }' },
        400,
        'INVALID_CONTRACT',
      ],
      [
        { name: 'x', source: { query: 'SELECT 1 AS x' }, contractYaml: 'name: x\nfields: { y: { type: int } }' },
        400,
        'INVALID_CONTRACT',
      ],
      [{ name: 'x', source: { query: 'SELECT 1 AS x' }, contract: 'no-such-contract' }, 404, 'NOT_FOUND'],
    ];
    const actual = [];
    for (const [body, ,] of cases) {
      const res = await register(body);
      actual.push([res.status, errorOf(res)?.code]);
    }
    expect(actual).toEqual(cases.map(([, status, code]) => [status, code]));
    const missing = jsonOf<{ error: { message: string } }>(
      await register({ name: 'x', source: { query: 'SELECT 1 AS x' }, contractYaml: 'name: x\nfields: { y: { type: int } }' }),
    );
    expect(missing.error.message).toMatch(/'y', which is not a column of the dataset \(columns: x\)/);
    expect(jsonOf<{ datasets: unknown[] }>(await call('viewer', 'GET', '/datasets')).datasets).toHaveLength(2);
  });
});
