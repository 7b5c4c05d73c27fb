import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeelClient } from '../../src/client/index.ts';
import { buildOnnxModel } from '../../src/registry/index.ts';
import { type AnalyticsEngine, createAnalyticsEngine } from '../../src/storage/index.ts';
import { runCli, startCli } from '../helpers/cli.ts';
import { linearProbability, startLinearKeel } from '../helpers/serving-fixtures.ts';
import type { TestKeel } from '../helpers/test-keel.ts';

/**
 * `keel score` against a real gateway: bad rows in the middle of a file, load shedding by rate
 * limit, `--max-errors`, and a model whose outputs are a string label and a probability vector.
 */
describe('keel score', () => {
  let keel: TestKeel;
  let admin: KeelClient;
  let env: { url: string; key: string };
  let engine: AnalyticsEngine;
  let dir: string;

  beforeAll(async () => {
    let predictorKey: string;
    ({ keel, admin, predictorKey } = await startLinearKeel());
    env = { url: keel.url, key: predictorKey };
    engine = await createAnalyticsEngine({ threads: 1 });
    dir = await mkdtemp(join(tmpdir(), 'keel-score-test-'));
  });
  afterAll(async () => {
    await engine?.close();
    await keel?.dispose();
  });

  const score = (args: string[]) => runCli(['score', ...args, '--json'], env, 120_000);

  /** 3,000 rows `id, x`; rows 1000 and 2500 have three values in x where the model takes two. */
  const writeInput = async (name: string) => {
    const file = join(dir, name);
    await engine.run(`COPY (SELECT i AS id, CASE WHEN i IN (1000, 2500) THEN [i::DOUBLE, 1, 2] ELSE [i::DOUBLE, 1] END AS x
      FROM range(3000) t(i)) TO '${file}' (FORMAT parquet)`);
    return file;
  };

  /** A deployment `name` of `lin` limited to `perSecond` requests, and an input of `rows` good rows for it. */
  const throttled = async (name: string, perSecond: number, rows: number) => {
    await admin.deployments.deploy(name, {
      model: 'lin',
      ref: { alias: 'champion' },
      options: { rateLimit: { perSecond, burst: 1 } },
    });
    const input = join(dir, `${name}.parquet`);
    await engine.run(`COPY (SELECT i AS id, [i::DOUBLE, 1] AS x FROM range(${rows}) t(i)) TO '${input}' (FORMAT parquet)`);
    return { input, output: join(dir, `${name}.out.parquet`) };
  };

  it('scores every other row when rows in the middle are bad, naming them by file row', async () => {
    const input = await writeInput('bad-rows.parquet');
    const output = join(dir, 'bad-rows.out.parquet');
    const res = await score(['--deployment', 'lin', '--input', input, '--output', output]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ rows: 3000, scored: 2998, failed: 2 });
    expect(summary.errors.map((e: { row: number }) => e.row).sort()).toEqual([1000, 2500]);
    expect(summary.errors[0]).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^x must be 2 values/) });

    const rows = await engine.all<{ id: number; probability: number | null; error: { code: string; message: string } | null }>(
      `SELECT id, probability, error FROM read_parquet('${output}')`,
    );
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    for (const r of rows) {
      if (r.id === 1000 || r.id === 2500) {
        expect(r.probability).toBeNull();
        expect(r.error).toMatchObject({ code: 'VALIDATION_FAILED' });
      } else {
        expect(r.error).toBeNull();
        expect(r.probability).toBeCloseTo(linearProbability([r.id, 1]), 5);
      }
    }
  });

  it('stops past --max-errors with exit 2 and leaves nothing at --output', async () => {
    const input = await writeInput('too-many.parquet');
    const output = join(dir, 'too-many.out.parquet');
    const res = await score(['--deployment', 'lin', '--input', input, '--output', output, '--max-errors', '1']);
    expect(res.code).toBe(2);
    const { error } = JSON.parse(res.stdout);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/more than --max-errors 1/);
    expect(error.message).not.toMatch(/records\[/);
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('too-many.out'))).toEqual([]);
  });

  it('stops at once, with the error’s own exit code, on a failure about the job rather than its rows', async () => {
    const input = await writeInput('no-deployment.parquet');
    const output = join(dir, 'no-deployment.out.parquet');
    const res = await score(['--deployment', 'nope', '--input', input, '--output', output]);
    expect(res.code).toBe(5);
    expect(JSON.parse(res.stdout).error.code).toBe('NOT_FOUND');
    expect(existsSync(output)).toBe(false);
  });

  it('stops on Ctrl-C with exit 8, leaving nothing at --output and no partial file', async () => {
    const { input, output } = await throttled('lin-slow', 1, 5000);
    const { child, result } = startCli(
      ['score', '--deployment', 'lin-slow', '--input', input, '--output', output, '--json'],
      env,
      120_000,
    );
    // Interrupt once the job is under way: its first request has reached the gateway (the rate limit keeps it going for seconds).
    const served = async () => {
      const text = await (await fetch(`${keel.url}/metrics`)).text();
      return /keel_predict_requests_total\{deployment="lin-slow",model_version="\d+",code="ok"\} [1-9]/.test(text);
    };
    for (let i = 0; i < 600 && !(await served()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await served()).toBe(true);
    child.kill('SIGINT');
    const res = await result;
    expect(res.code).toBe(8);
    expect(JSON.parse(res.stdout).error).toMatchObject({
      code: 'CLIENT_CLOSED',
      message: expect.stringMatching(/interrupted \(SIGINT\)/),
    });
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('lin-slow.out'))).toEqual([]);
  });

  it('retries requests refused by a rate limit (429 with Retry-After) and scores every row', async () => {
    const { input, output } = await throttled('lin-limited', 4, 3000);
    const res = await score(['--deployment', 'lin-limited', '--input', input, '--output', output]);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ rows: 3000, scored: 3000, failed: 0 });
    expect(summary.retries).toBeGreaterThan(0);
    const [{ n }] = (await engine.all(`SELECT count(*)::INTEGER AS n FROM read_parquet('${output}') WHERE error IS NULL`)) as [
      { n: number },
    ];
    expect(n).toBe(3000);
  });

  it('types the output from what the model returns: a string label stays VARCHAR, a probability vector a LIST', async () => {
    // Echoes its inputs: `name` (a string) as the label and `p` (two floats) as the probability.
    const model = buildOnnxModel({
      inputs: [
        { name: 'name', dtype: 'string', shape: ['batch', 1] },
        { name: 'p', dtype: 'float32', shape: ['batch', 2] },
      ],
      outputs: [
        { name: 'label', dtype: 'string', shape: ['batch', 1] },
        { name: 'probability', dtype: 'float32', shape: ['batch', 2] },
      ],
      nodes: [
        { opType: 'Identity', inputs: ['name'], outputs: ['label'] },
        { opType: 'Identity', inputs: ['p'], outputs: ['probability'] },
      ],
    });
    const file = join(dir, 'tagger.onnx');
    await writeFile(file, model);
    const v = await admin.registerModel({ name: 'tagger', file });
    await admin.deployments.deploy('tagger', { model: 'tagger', ref: { version: v.version } });
    const input = join(dir, 'tagger.parquet');
    await engine.run(`COPY (SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END AS name,
      CASE WHEN i = 700 THEN [0.5, 0.25, 0.25] ELSE [0.25, 0.75] END AS p FROM range(1200) t(i)) TO '${input}' (FORMAT parquet)`);
    const output = join(dir, 'tagger.out.parquet');
    const res = await score(['--deployment', 'tagger', '--input', input, '--output', output]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ rows: 1200, scored: 1199, failed: 1, errors: [{ row: 700 }] });

    const types = await engine.all<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT prediction, probability, error FROM read_parquet('${output}')`,
    );
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      prediction: 'VARCHAR',
      probability: 'DOUBLE[]',
      error: 'STRUCT(code VARCHAR, message VARCHAR)',
    });
    const rows = await engine.all<{ id: number; prediction: string | null; probability: number[] | null }>(
      `SELECT id, prediction, probability FROM read_parquet('${output}') WHERE id IN (0, 1, 700) ORDER BY id`,
    );
    expect(rows.map((r) => [r.id, r.prediction, r.probability])).toEqual([
      [0, 'even', [0.25, 0.75]],
      [1, 'odd', [0.25, 0.75]],
      [700, null, null],
    ]);
  });
});
