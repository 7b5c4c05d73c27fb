import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorRegistry } from '../../src/core/index.ts';
import { createAnalyticsEngine } from '../../src/storage/index.ts';
import { ApiClient, Seeder } from '../helpers/api-fixtures.ts';
import { flightsContract, flightsDayQuery } from '../helpers/flights.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const repoRoot = resolve(import.meta.dirname, '../..');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('keel data CLI', () => {
  let keel: TestKeel;
  let key: string;
  let outside: string;
  let contractFile: string;
  let versionId: string;

  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((done) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', ...args],
        { cwd: repoRoot, env: { ...process.env, KEEL_URL: keel.url, KEEL_API_KEY: key }, timeout: 60_000 },
        (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    keel = await startTestKeel();
    const api = new ApiClient(keel.url);
    key = (await new Seeder(api, keel.adminKey as string).createKey('scientist', ['default'])).key;
    api.close();
    // A folder outside the server's allowed roots (its data dir and the repo): files there must be uploaded.
    outside = await mkdtemp(join(tmpdir(), 'keel-data-cli-'));
    const engine = await createAnalyticsEngine({ threads: 1 });
    const airports = (await engine.all<{ o: string }>(`SELECT DISTINCT origin AS o FROM (${flightsDayQuery}) ORDER BY 1`)).map(
      (r) => r.o,
    );
    await engine.run(`COPY (${flightsDayQuery}) TO '${join(outside, 'day.parquet')}' (FORMAT parquet)`);
    await engine.close();
    contractFile = join(outside, 'flights.yaml');
    await writeFile(contractFile, flightsContract({ airports }));
  });
  afterAll(async () => {
    await keel?.dispose();
    if (outside) await rm(outside, { recursive: true, force: true });
  });

  it('applies a contract once, then reports it unchanged', async () => {
    const first = await cli('data', 'contract', 'apply', '-f', contractFile);
    expect([first.code, first.stdout.trim()]).toEqual([0, 'Applied contract flights@1 (strict)']);
    const again = await cli('data', 'contract', 'apply', '-f', contractFile, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ name: 'flights', version: 1, created: false });
    const bad = join(outside, 'bad.yaml');
    await writeFile(bad, 'name: x\nfields: { delay: { type: integer } }\n');
    const refused = await cli('data', 'contract', 'apply', '-f', bad);
    expect(refused.code).toBe(errorRegistry.INVALID_CONTRACT.exit);
    expect(refused.stderr).toMatch(/fields\.delay\.type: unknown type.*\[INVALID_CONTRACT\]/);
  });

  it('registers from a query, and the same rows from a file it must upload give the same version', async () => {
    const byQuery = await cli(
      'data',
      'register',
      'flights',
      '--query',
      flightsDayQuery,
      '--contract',
      'flights',
      '--as-of',
      '2001-01-05',
      '--json',
    );
    expect(byQuery.code, byQuery.stderr).toBe(0);
    const v = JSON.parse(byQuery.stdout) as { id: string; created: boolean; rows: number; contract: string; status: string };
    expect(v).toMatchObject({ created: true, rows: 14828, contract: 'flights@1', status: 'ok' });
    versionId = v.id;
    const byFile = await cli('data', 'register', 'flights', '--file', join(outside, 'day.parquet'));
    expect(byFile.code, byFile.stderr).toBe(0);
    expect(byFile.stdout).toMatch(new RegExp(`^Already registered: flights ${versionId} \\(14828 rows`));
  });

  it('lists, shows and profiles versions as tables', async () => {
    const [list, show, profile] = await Promise.all([
      cli('data', 'list'),
      cli('data', 'show', versionId),
      cli('data', 'profile', versionId),
    ]);
    expect(list.stdout).toMatch(new RegExp(`flights\\s.*1\\s.*${versionId}\\s.*14828\\s.*ok`));
    expect(show.stdout).toMatch(/^version +dsv_/m);
    expect(show.stdout).toMatch(/contract +flights@1/);
    expect(show.stdout).toMatch(/delay\s+.*BIGINT/);
    expect(profile.stdout).toMatch(/^dsv_\w+: 14828 rows/);
    expect(profile.stdout).toMatch(/delay\s+.*BIGINT\s+.*0%\s+.*-67\s+.*1191/);
    expect(profile.stdout).toMatch(/origin\s+.*VARCHAR.*ORD×878 DFW×730/);
  });

  it('validates a version or a local file, exiting 12 when a check fails', async () => {
    const fresh = await cli('data', 'validate', versionId, '--contract', contractFile, '--as-of', '2001-01-05');
    expect([fresh.code, fresh.stderr]).toEqual([0, '']);
    expect(fresh.stdout).toMatch(/contract flights \(strict\) on 14828 rows: PASSED/);
    const stale = await cli('data', 'validate', join(outside, 'day.parquet'), '--contract', 'flights@1', '--as-of', '2001-02-01');
    expect(stale.code).toBe(12);
    expect(stale.stdout).toMatch(/FAILED \(1 of 18 checks\)/);
    expect(stale.stdout).toMatch(/date\.freshness\s+.*FAIL/);
    expect(stale.stderr).toMatch(/\[CONTRACT_FAILED\]/);
  });

  it('refuses data a strict contract rejects, printing the report and exiting 12', async () => {
    const res = await cli(
      'data',
      'register',
      'flights-bad',
      '--query',
      "SELECT * REPLACE (if(origin = 'ORD', NULL, delay) AS delay) FROM flights",
      '--contract',
      'flights',
      '--as-of',
      '2001-01-05',
    );
    expect(res.code).toBe(errorRegistry.CONTRACT_FAILED.exit);
    expect(res.stdout).toMatch(/delay\.required\s+.*FAIL/);
    expect(res.stdout).toMatch(/samples of delay\.required/);
    expect(res.stderr).toMatch(/failed 1 of 18 checks: delay\.required \[CONTRACT_FAILED\]/);
    const list = await cli('data', 'list', '--json');
    expect((JSON.parse(list.stdout) as { datasets: { name: string }[] }).datasets.map((d) => d.name)).toEqual(['flights']);
  });
});
