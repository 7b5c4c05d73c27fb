import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, ValidationReport } from '../../src/datasets/index.ts';
import { type AnalyticsEngine, createAnalyticsEngine } from '../../src/storage/index.ts';
import { ApiClient, type ApiResponse, errorOf, jsonOf, Seeder } from '../helpers/api-fixtures.ts';
import { flightsContract, flightsDayQuery } from '../helpers/flights.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const asOfFresh = '2001-01-05T00:00:00Z';
const asOfStale = '2001-02-01T00:00:00Z';

describe('data contracts on real flights detect injected faults', () => {
  let keel: TestKeel;
  let api: ApiClient;
  let engine: AnalyticsEngine;
  let key: string;
  let airports: string[];
  let counts: Record<string, number>;

  const call = (method: string, path: string, json?: unknown): Promise<ApiResponse> =>
    api.request({ method, path: `/api/v1${path}`, key, json });
  const failed = (r: ValidationReport) =>
    r.checks
      .filter((c) => !c.passed)
      .map((c) => c.name)
      .sort();
  const check = (r: ValidationReport, name: string) => r.checks.find((c) => c.name === name) as CheckResult;
  const validate = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/datasets/validate', body);
    expect(res.status, res.raw.toString()).toBe(200);
    return jsonOf<ValidationReport>(res);
  };

  beforeAll(async () => {
    keel = await startTestKeel();
    api = new ApiClient(keel.url);
    key = (await new Seeder(api, keel.adminKey as string).createKey('scientist', ['default'])).key;
    engine = await createAnalyticsEngine({ threads: 2 });
    const rows = await engine.all<{ origin: string; n: number }>(
      `SELECT origin, count(*) AS n FROM (${flightsDayQuery}) GROUP BY 1 ORDER BY 2, 1`,
    );
    airports = rows.map((r) => r.origin);
    counts = Object.fromEntries(rows.map((r) => [r.origin, r.n]));
    const base = await call('POST', '/datasets', { name: 'flights', source: { query: flightsDayQuery } });
    expect(base.status).toBe(201);
    const applied = await call('POST', '/datasets/contracts', { yaml: flightsContract({ airports }) });
    expect([applied.status, jsonOf<{ version: number }>(applied).version]).toEqual([201, 1]);
  });
  afterAll(async () => {
    api?.close();
    await engine?.close();
    await keel?.dispose();
  });

  it('passes clean, fresh data and reports every check with its observed value', async () => {
    const report = await validate({ source: { query: flightsDayQuery }, contract: 'flights', asOf: asOfFresh });
    expect(failed(report)).toEqual([]);
    expect(report).toMatchObject({ passed: true, rows: 14828, contract: { name: 'flights', version: 1, policy: 'strict' } });
    expect(report.checks.map((c) => c.name)).toEqual([
      'date.type',
      'delay.type',
      'distance.type',
      'origin.type',
      'destination.type',
      'date.required',
      'delay.required',
      'delay.min',
      'delay.max',
      'distance.required',
      'distance.min',
      'origin.required',
      'origin.allowed',
      'origin.pattern',
      'destination.required',
      'destination.pattern',
      'date.freshness',
      'volume.min_rows',
    ]);
    expect(check(report, 'delay.max')).toMatchObject({ observed: 1191, threshold: 1440, failingRows: 0 });
    expect(check(report, 'volume.min_rows')).toMatchObject({ observed: 14828, threshold: 10000 });
    expect(check(report, 'date.freshness')).toMatchObject({ observed: '2001-01-01T23:59:00.000Z', threshold: '7d' });
  });

  it('catches nulls in a required field, with samples of the offending rows', async () => {
    const query = "SELECT * REPLACE (if(origin = 'ATL', NULL, delay) AS delay) FROM flights";
    const report = await validate({ source: { query }, contract: 'flights', asOf: asOfFresh });
    expect(failed(report)).toEqual(['delay.required']);
    const c = check(report, 'delay.required');
    expect(c).toMatchObject({ observed: counts.ATL, failingRows: counts.ATL });
    expect(c.samples).toHaveLength(20);
    expect(c.samples.every((r) => r.delay === null && r.origin === 'ATL')).toBe(true);
  });

  it('catches out-of-range delays', async () => {
    const query = "SELECT * REPLACE (if(origin = 'ORD', delay + 5000, delay) AS delay) FROM flights";
    const report = await validate({ source: { query }, contract: 'flights', asOf: asOfFresh });
    expect(failed(report)).toEqual(['delay.max']);
    expect(check(report, 'delay.max').failingRows).toBe(counts.ORD);
    expect(check(report, 'delay.max').samples.every((r) => (r.delay as number) > 1440)).toBe(true);
  });

  it('catches airport codes outside the allowed list (the data’s own airports minus one)', async () => {
    const [dropped, ...rest] = airports;
    const id = jsonOf<{ versions: { id: string }[] }>(await call('GET', '/datasets/flights')).versions[0]?.id;
    const byVersion = await validate({ version: id, contractYaml: flightsContract({ airports: rest }), asOf: asOfFresh });
    expect(failed(byVersion)).toEqual(['origin.allowed']);
    expect(check(byVersion, 'origin.allowed')).toMatchObject({
      failingRows: counts[dropped as string],
      observed: counts[dropped as string],
    });
    expect(check(byVersion, 'origin.allowed').samples.map((r) => r.origin)).toEqual(
      Array(Math.min(20, counts[dropped as string] ?? 0)).fill(dropped),
    );
  });

  it('catches stale data relative to as_of, and too few rows', async () => {
    const stale = await validate({ source: { query: flightsDayQuery }, contract: 'flights@1', asOf: asOfStale });
    expect(failed(stale)).toEqual(['date.freshness']);
    expect(check(stale, 'date.freshness').details).toMatchObject({
      asOf: '2001-02-01T00:00:00.000Z',
      latest: '2001-01-01T23:59:00.000Z',
    });
    const few = await validate({
      source: { query: "SELECT * FROM flights WHERE origin = 'ATL'" },
      contract: 'flights',
      asOf: asOfFresh,
    });
    expect(failed(few)).toEqual(['volume.min_rows']);
    expect(check(few, 'volume.min_rows').observed).toBe(counts.ATL);
  });

  it('strict refuses a faulty version with CONTRACT_FAILED and stores nothing', async () => {
    const blobs = async () => (await readdir(join(keel.dataDir, 'blobs', 'sha256'), { recursive: true })).length;
    const before = await blobs();
    const res = await call('POST', '/datasets', {
      name: 'flights-bad',
      source: { query: "SELECT * REPLACE (if(origin = 'ORD', delay + 5000, delay) AS delay) FROM flights" },
      contract: 'flights',
      asOf: asOfFresh,
    });
    expect([res.status, errorOf(res)?.code]).toEqual([422, 'CONTRACT_FAILED']);
    const report = (errorOf(res)?.details as { report: ValidationReport } | undefined)?.report as ValidationReport;
    expect(failed(report)).toEqual(['delay.max']);
    expect((await call('GET', '/datasets/flights-bad')).status).toBe(404);
    expect(await blobs()).toBe(before);
    expect(jsonOf<{ datasets: { name: string }[] }>(await call('GET', '/datasets')).datasets.map((d) => d.name)).toEqual([
      'flights',
    ]);
  });

  it('warn stores a faulty version flagged, with its report', async () => {
    const warn = await call('POST', '/datasets/contracts', {
      yaml: flightsContract({ airports, name: 'flights-warn', policy: 'warn' }),
    });
    expect(warn.status).toBe(201);
    const res = await call('POST', '/datasets', {
      name: 'flights-nulls',
      source: { query: "SELECT * REPLACE (if(origin = 'ATL', NULL, delay) AS delay) FROM flights" },
      contract: 'flights-warn',
      asOf: asOfFresh,
    });
    expect(res.status, res.raw.toString()).toBe(201);
    const body = jsonOf<{ id: string; status: string; contract: string }>(res);
    expect(body).toMatchObject({ status: 'flagged', contract: 'flights-warn@1' });
    const stored = jsonOf<{ validation: ValidationReport }>(await call('GET', `/datasets/versions/${body.id}`));
    expect(failed(stored.validation)).toEqual(['delay.required']);
    expect(stored.validation.contract).toEqual({ name: 'flights-warn', version: 1, policy: 'warn' });
  });

  it('versions contracts: unchanged keeps its version, a change makes the next one', async () => {
    const same = await call('POST', '/datasets/contracts', { yaml: flightsContract({ airports }) });
    expect([same.status, jsonOf<{ version: number }>(same).version]).toEqual([200, 1]);
    const changed = await call('POST', '/datasets/contracts', { yaml: flightsContract({ airports, minRows: 5 }) });
    expect([changed.status, jsonOf<{ version: number }>(changed).version]).toEqual([201, 2]);
    expect(jsonOf<{ version: number }>(await call('GET', '/datasets/contracts/flights@1')).version).toBe(1);
    const list = jsonOf<{ contracts: { name: string; version: number }[] }>(await call('GET', '/datasets/contracts'));
    expect(list.contracts.map((c) => [c.name, c.version])).toEqual([
      ['flights', 2],
      ['flights-warn', 1],
    ]);
    const malformed = await call('POST', '/datasets/contracts', { yaml: 'name: x\nfields: { delay: { type: integer } }' });
    expect([
      malformed.status,
      errorOf(malformed)?.code,
      (errorOf(malformed)?.details as { issues: { path: string }[] } | undefined)?.issues[0]?.path,
    ]).toEqual([400, 'INVALID_CONTRACT', 'fields.delay.type']);
  });
});
