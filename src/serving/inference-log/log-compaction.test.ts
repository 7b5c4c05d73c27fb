import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../core/index.ts';
import { InferenceLog } from './inference-log.ts';
import { LineBuffer } from './segment-codec.ts';
import { testRecord } from './test-records.ts';

const dirs: string[] = [];
const logs: InferenceLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'keel-ilog-'));
  dirs.push(d);
  return d;
}

describe('InferenceLog rolling and compaction', () => {
  it('rolls segments by size, compacts them to Parquet, and queries return exactly what was appended', async () => {
    const dir = await tempDir();
    const log = await InferenceLog.open({ dir, segmentMaxBytes: 4096 });
    logs.push(log);
    const records = Array.from({ length: 120 }, (_, i) => testRecord(i));
    for (const r of records.slice(0, 60)) await log.append(r);
    await Promise.all(records.slice(60).map((r) => log.append(r)));
    await log.compactNow();
    const stats = log.stats();
    expect(stats.segmentsRolled).toBeGreaterThan(1);
    expect(stats.parquetFiles).toBe(stats.segmentsRolled);
    const dates = await readdir(join(dir, 'parquet'));
    expect(dates).toEqual(['2026-11-22']);

    const { rows } = await log.queryLog('SELECT request_id FROM inference_log ORDER BY time');
    expect(rows.map((r) => r.request_id)).toEqual(records.map((r) => r.requestId));
    for (const r of [records[0], records[59], records[119]]) {
      if (r) expect(await log.findRecord(r.requestId)).toEqual(r);
    }
    expect(await log.findRecord('req_missing')).toBeNull();
  });

  it('rolls a segment by age and the JSON columns work with DuckDB json functions', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 22));
    const log = await InferenceLog.open({ dir: await tempDir(), segmentMaxAgeMs: 40, clock });
    logs.push(log);
    for (let i = 0; i < 6; i++) await log.append(testRecord(i));
    clock.advance(41);
    await vi.waitFor(() => expect(log.stats().parquetFiles).toBe(1), { timeout: 10_000, interval: 20 });
    await log.append(testRecord(6));
    const { rows } = await log.queryLog(
      `SELECT deployment, count(*) AS n, sum((inputs->>'$.i')::INT) AS s, count(*) FILTER (WHERE feature_statuses->>'$.hour' = 'NOT_FOUND') AS nf
       FROM inference_log GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { deployment: 'delays', n: 4, s: 1 + 2 + 4 + 5, nf: 4 },
      { deployment: 'fraud', n: 3, s: 0 + 3 + 6, nf: 3 },
    ]);
  });

  it('queries running during rolls and compactions see every acknowledged record exactly once', async () => {
    const log = await InferenceLog.open({ dir: await tempDir(), segmentMaxBytes: 2048 });
    logs.push(log);
    let acked = 0;
    let writing = true;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < 400; i += 8) {
        await log.append(testRecord(i));
        acked++;
      }
    });
    const all = Promise.all(writers).finally(() => {
      writing = false;
    });
    let queries = 0;
    while (writing || queries < 3) {
      const before = acked;
      const { rows } = await log.queryLog('SELECT count(*) AS n, count(DISTINCT request_id) AS d FROM inference_log');
      const [row] = rows;
      expect(row?.n).toBe(row?.d);
      expect(row?.n).toBeGreaterThanOrEqual(before);
      queries++;
    }
    await all;
    await log.compactNow();
    expect(log.stats().parquetFiles).toBeGreaterThan(3);
    const { rows } = await log.queryLog('SELECT count(*) AS n, count(DISTINCT request_id) AS d FROM inference_log');
    expect(rows).toEqual([{ n: 400, d: 400 }]);
  });

  it('compacts later segments when one cannot be compacted, and keeps that one for the next pass', async () => {
    const dir = await tempDir();
    const first = await InferenceLog.open({ dir, compact: false });
    await first.append(testRecord(0));
    await first.roll();
    await first.append(testRecord(1));
    await first.roll();
    await first.close();
    const [oldest] = (await readdir(join(dir, 'segments'))).sort();
    // A line whose checksum holds but whose JSON DuckDB refuses (written before appends refused it).
    const lines = new LineBuffer();
    lines.push(JSON.stringify({ ...testRecord(9), inputs: { note: '\ud800' } }));
    await appendFile(join(dir, 'segments', oldest as string), lines.view());

    const log = await InferenceLog.open({ dir });
    logs.push(log);
    await log.compactNow();
    expect(log.stats()).toMatchObject({ failures: expect.any(Number), parquetFiles: 1, pendingSegments: 1 });
    expect(log.stats().failures).toBeGreaterThan(0);
    expect(await readdir(join(dir, 'segments'))).toContain(oldest);
  });

  it('returns values JSON cannot carry (big integers, intervals, blobs) as text, not an error', async () => {
    const log = await InferenceLog.open({ dir: await tempDir() });
    logs.push(log);
    await log.append(testRecord(1));
    const { rows } = await log.queryLog(
      `SELECT 12345678901234567890::UBIGINT AS big, 170141183460469231731687303715884105727::HUGEINT AS huge,
              (-9007199254740993)::BIGINT AS neg, 42::BIGINT AS small, INTERVAL 90 MINUTE AS gap,
              '\\xAA\\xBB'::BLOB AS bytes, DATE '2026-12-05' AS day, [1::BIGINT, 2] AS list,
              {'a': 2::HUGEINT} AS st, 1.5::DECIMAL(10,2) AS dec FROM inference_log`,
    );
    const [row] = rows;
    expect(row).toMatchObject({
      big: '12345678901234567890',
      huge: '170141183460469231731687303715884105727',
      neg: '-9007199254740993',
      small: 42,
      list: [1, 2],
      st: { a: 2 },
    });
    expect(row).toMatchObject({ gap: { months: 0, days: 0, micros: 5_400_000_000 }, bytes: '\\xAA\\xBB', dec: 1.5 });
    expect(row?.day).toBeInstanceOf(Date);
    expect(() => JSON.stringify(rows)).not.toThrow();
  });

  it('cuts a large result at maxRows and says so', async () => {
    const log = await InferenceLog.open({ dir: await tempDir(), maxQueryRows: 5 });
    logs.push(log);
    await Promise.all(Array.from({ length: 12 }, (_, i) => log.append(testRecord(i))));
    const result = await log.queryLog('SELECT request_id FROM inference_log');
    expect(result.rows).toHaveLength(5);
    expect(result.truncated).toBe(true);
    expect(result.columns).toEqual(['request_id']);
    expect((await log.queryLog('SELECT * FROM inference_log', { maxRows: 100 })).truncated).toBe(false);
  });
});

describe('queryLog guard', () => {
  it.each([
    ['DELETE FROM inference_log', /only SELECT/],
    ["INSERT INTO inference_log (request_id) VALUES ('x')", /only SELECT/],
    ["COPY (SELECT 1) TO '/tmp/out.csv'", /only SELECT/],
    ["ATTACH '/tmp/x.db' AS x", /only SELECT/],
    ['CREATE TABLE t AS SELECT 1', /only SELECT/],
    ['SET enable_external_access = true', /only SELECT/],
    ['SELECT 1; SELECT 2', /exactly one/],
    ["SELECT * FROM read_parquet('/etc/passwd')", /read_parquet\(\) is not allowed/],
    ["SELECT * FROM '/etc/passwd'", /not readable/],
    ['SELECT * FROM duckdb_settings()', /not allowed/],
    ['SELECT * FROM main.inference_log', /not readable/],
    ['SELECT * FROM other_table', /not readable/],
  ])('refuses %s', async (sql, message) => {
    const log = await InferenceLog.open({ dir: await tempDir() });
    logs.push(log);
    await expect(log.queryLog(sql)).rejects.toMatchObject({ code: 'BAD_REQUEST', message });
  });

  it('accepts WITH queries, CTEs and generators', async () => {
    const log = await InferenceLog.open({ dir: await tempDir() });
    logs.push(log);
    await log.append(testRecord(1));
    const { rows } = await log.queryLog(
      'WITH recent AS (SELECT * FROM inference_log WHERE time > 0) SELECT count(*) AS n, (SELECT count(*) FROM range(3)) AS r FROM recent',
    );
    expect(rows).toEqual([{ n: 1, r: 3 }]);
  });
});
