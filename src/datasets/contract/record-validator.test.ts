import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnalyticsEngine, createAnalyticsEngine } from '../../storage/index.ts';
import { sqlScalar, sqlString } from '../sql-text.ts';
import { compileContract } from './compile-contract.ts';
import { parseContract } from './parse-contract.ts';
import { compileRecordValidator } from './record-validator.ts';
import { runContract } from './run-contract.ts';

const contract = parseContract(`
name: agreement
fields:
  id: { type: int, required: true }
  delay: { type: int, min: -60, max: 600 }
  origin: { type: string, required: true, pattern: '^[A-Z]{3}$', allowed: [ATL, ORD, SFO, lax, JFKX] }
  distance: { type: float, min: 10.5, max: 5000 }
  ts: { type: timestamp, min: '2001-01-01T00:00:00Z', max: '2001-06-30T23:59:59Z' }
  day: { type: date, min: '2001-01-01', max: '2001-06-30' }
  ok: { type: bool, allowed: [true] }
`);

/** A small seeded generator (mulberry32), so a failure replays exactly. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  return { next, pick };
}

const day = 86_400_000;
const jan1 = Date.parse('2001-01-01T00:00:00Z');
const jun30 = Date.parse('2001-06-30T23:59:59Z');

function randomRecords(n: number, seed: number) {
  const r = rng(seed);
  const maybeNull = <T>(v: T) => (r.next() < 0.1 ? null : v);
  return Array.from({ length: n }, (_, id) => ({
    id,
    delay: maybeNull(r.pick([-61, -60, 0, 15, 600, 601, Math.floor(r.next() * 2000) - 500])),
    origin: maybeNull(r.pick(['ATL', 'ORD', 'SFO', 'lax', 'JFKX', 'BOS', 'atl', 'AT', 'ÄTL', 'XATL', 'ORD\n'])),
    distance: maybeNull(r.pick([10.5, 10.4999, 0, 5000, 5000.01, r.next() * 6000])),
    ts: maybeNull(r.pick([jan1, jan1 - 1000, jun30, jun30 + 1000, jan1 + Math.floor(r.next() * 200 * day)])),
    day: maybeNull(r.pick(['2000-12-31', '2001-01-01', '2001-06-30', '2001-07-01', '2001-03-15'])),
    ok: maybeNull(r.pick([true, false])),
  }));
}

type Rec = ReturnType<typeof randomRecords>[number];
const lit = (v: unknown, cast: string) =>
  v === null ? `NULL::${cast}` : `${sqlScalar(v as string | number | boolean)}::${cast}`;

function valuesSql(records: Rec[]): string {
  const rows = records.map(
    (x) =>
      `(${x.id}, ${lit(x.delay, 'BIGINT')}, ${lit(x.origin, 'VARCHAR')}, ${lit(x.distance, 'DOUBLE')}, ${
        x.ts === null ? 'NULL::TIMESTAMP' : `make_timestamp(${x.ts * 1000})`
      }, ${x.day === null ? 'NULL::DATE' : `CAST(${sqlString(x.day)} AS DATE)`}, ${lit(x.ok, 'BOOLEAN')})`,
  );
  return `SELECT * FROM (VALUES ${rows.join(',\n')}) v(id, delay, origin, distance, ts, day, ok)`;
}

describe('compileRecordValidator agrees with the DuckDB checks of the same contract', () => {
  let engine: AnalyticsEngine;
  const records = randomRecords(600, 20010101);
  beforeAll(async () => {
    engine = await createAnalyticsEngine({ threads: 1 });
    await engine.run(`CREATE TABLE agreement AS ${valuesSql(records)}`);
  });
  afterAll(() => engine.close());

  it('reports the same failing rules for every record', async () => {
    const columns = (await engine.all<{ column_name: string; column_type: string }>('DESCRIBE agreement')).map((c) => ({
      name: c.column_name,
      type: c.column_type,
    }));
    const { rowRules } = compileContract(contract, columns);
    expect(rowRules.length).toBe(13);
    const flags = rowRules.map((r, i) => `coalesce(${r.violation}, false) AS f${i}`).join(', ');
    const rows = await engine.all(`SELECT id, ${flags} FROM agreement ORDER BY id`);
    const validate = compileRecordValidator(contract);
    const mismatches: string[] = [];
    for (const row of rows) {
      const fromSql = rowRules
        .filter((_, i) => row[`f${i}`] === true)
        .map((r) => `${r.field}.${r.check}`)
        .sort();
      const record = records[row.id as number] as Rec;
      // Serving sends times as ISO strings or epoch ms; alternate so both spellings are covered.
      const asSent = { ...record, ts: record.ts !== null && record.id % 2 ? new Date(record.ts).toISOString() : record.ts };
      const fromJs = validate(asSent)
        .errors.map((e) => `${e.field}.${e.check}`)
        .sort();
      if (fromSql.join() !== fromJs.join()) mismatches.push(`${JSON.stringify(record)}: sql=${fromSql} js=${fromJs}`);
    }
    expect(mismatches).toEqual([]);
    // The random records must break every rule (but id, the row key, is never null), or agreement proves little.
    const seen = new Set(records.flatMap((r) => validate(r).errors.map((e) => `${e.field}.${e.check}`)));
    expect([...seen].sort()).toEqual(
      rowRules
        .map((r) => `${r.field}.${r.check}`)
        .filter((n) => n !== 'id.required')
        .sort(),
    );
  });

  it('counts in the dataset report what the record validator finds record by record', async () => {
    const columns = (await engine.all<{ column_name: string; column_type: string }>('DESCRIBE agreement')).map((c) => ({
      name: c.column_name,
      type: c.column_type,
    }));
    const report = await runContract(engine, { relation: 'agreement', columns, contract, contractVersion: null, asOf: jun30 });
    const validate = compileRecordValidator(contract);
    const counts = new Map<string, number>();
    for (const r of records)
      for (const e of validate(r).errors) counts.set(`${e.field}.${e.check}`, (counts.get(`${e.field}.${e.check}`) ?? 0) + 1);
    for (const check of report.checks.filter((c) => c.kind !== 'type')) {
      expect(check.failingRows, check.name).toBe(counts.get(check.name) ?? 0);
      expect(check.samples.length, check.name).toBe(Math.min(20, counts.get(check.name) ?? 0));
    }
    expect(report.passed).toBe(false);
    expect(report.rows).toBe(records.length);
  });

  it('reports a wrong-typed value as a type error and skips its other rules', () => {
    const validate = compileRecordValidator(contract);
    expect(
      validate({ id: 1, origin: 'ATL', delay: '15', ts: 'yesterday', day: '2001/01/01', ok: 1, distance: Number.NaN }),
    ).toEqual({
      ok: false,
      errors: ['delay', 'distance', 'ts', 'day', 'ok'].map((field) => ({ field, check: 'type', message: expect.any(String) })),
    });
    expect(validate({ id: 2n, origin: 'ATL' })).toEqual({ ok: true, errors: [] });
    expect(validate({ origin: 'ATL', constructor: 1 }).errors).toEqual([
      { field: 'id', check: 'required', message: 'id is required' },
    ]);
  });
});
