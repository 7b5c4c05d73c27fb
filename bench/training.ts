import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createAnalyticsEngine, sqlString } from '../src/storage/index.ts';
import {
  binaryMetrics,
  type FeatureSpec,
  labelColumn,
  readTable,
  trainGbdt,
  trainLogisticRegression,
} from '../src/training/index.ts';
import { flightsParquet } from '../test/helpers/flights.ts';
import { codeVersion, loadAverage, machineLine } from './lib/machine.ts';
import { UsageError } from './lib/usage-error.ts';

/**
 * Issue 4's training benchmark: Keel's GBDT on 1M real flights × 10 features against LightGBM
 * (pip, local wheelhouse) on the same rows with the same depth, leaves, learning rate, bins and
 * number of trees (no early stopping, so both grow exactly as many trees), one thread each, in
 * the same run, one after the other. Times cover binning and boosting, not reading Parquet.
 * Also Keel's logistic regression on the same features, for the AUC it reaches.
 */
const exec = promisify(execFile);

const features: FeatureSpec[] = [
  { name: 'hour', kind: 'numeric' },
  { name: 'minute', kind: 'numeric' },
  { name: 'weekday', kind: 'numeric' },
  { name: 'origin_flights_hour', kind: 'numeric' },
  { name: 'destination_flights_hour', kind: 'numeric' },
  { name: 'distance', kind: 'numeric' },
  { name: 'origin_flights_day', kind: 'numeric' },
  { name: 'route_flights_day', kind: 'numeric' },
  { name: 'origin', kind: 'categorical' },
  { name: 'destination', kind: 'categorical' },
];

interface Options {
  trainRows: number;
  testRows: number;
  trees: number;
  leaves: number;
  depth: number;
  learningRate: number;
  minDataInLeaf: number;
  lightgbm: boolean;
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    trainRows: 1_000_000,
    testRows: 300_000,
    trees: 100,
    leaves: 63,
    depth: 8,
    learningRate: 0.1,
    minDataInLeaf: 100,
    lightgbm: true,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = (): number => {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new UsageError(`${a} needs a positive number`);
      return v;
    };
    if (a === '--quick') Object.assign(o, { trainRows: 100_000, testRows: 50_000, trees: 20 });
    else if (a === '--rows') o.trainRows = num();
    else if (a === '--trees') o.trees = num();
    else if (a === '--no-lightgbm') o.lightgbm = false;
    else throw new UsageError(`unknown flag ${a} (known: --quick, --rows N, --trees N, --no-lightgbm)`);
  }
  return o;
}

/**
 * Flights in time order with time-of-day features and same-hour / same-day traffic counts (no
 * calendar position: the test rows come after the training rows, where trees cannot extrapolate).
 */
function flightsSql(o: Options): string {
  return `
    WITH f AS (
      SELECT *, row_number() OVER (ORDER BY date, origin, destination, delay) AS rn FROM read_parquet(${sqlString(flightsParquet)})
    )
    SELECT
      CAST(hour(date) AS DOUBLE) AS hour, CAST(minute(date) AS DOUBLE) AS minute,
      CAST(isodow(date) AS DOUBLE) AS weekday, CAST(distance AS DOUBLE) AS distance,
      CAST(count(*) OVER (PARTITION BY origin, date_trunc('hour', date)) AS DOUBLE) AS origin_flights_hour,
      CAST(count(*) OVER (PARTITION BY destination, date_trunc('hour', date)) AS DOUBLE) AS destination_flights_hour,
      CAST(count(*) OVER (PARTITION BY origin, CAST(date AS DATE)) AS DOUBLE) AS origin_flights_day,
      CAST(count(*) OVER (PARTITION BY origin, destination, CAST(date AS DATE)) AS DOUBLE) AS route_flights_day,
      origin, destination, CAST(delay > 15 AS DOUBLE) AS late, rn
    FROM f WHERE rn <= ${o.trainRows + o.testRows}`;
}

async function lightgbm(o: Options, trainPath: string, testPath: string) {
  const python = (await exec('sh', [join(import.meta.dirname, 'lightgbm/setup-venv.sh')], { timeout: 1_200_000 })).stdout.trim();
  const cfg = {
    train: trainPath,
    test: testPath,
    features,
    label: 'late',
    learning_rate: o.learningRate,
    num_leaves: o.leaves,
    max_depth: o.depth,
    min_data_in_leaf: o.minDataInLeaf,
    num_trees: o.trees,
    threads: 1,
  };
  const out = await exec(python, [join(import.meta.dirname, 'lightgbm/train_flights.py'), JSON.stringify(cfg)], {
    timeout: 3_600_000,
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as { train_seconds: number; iterations: number; auc: number };
}

export async function run(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const dir = await mkdtemp(join(tmpdir(), 'keel-bench-training-'));
  const engine = await createAnalyticsEngine({ threads: 2 });
  try {
    process.stderr.write(`training: ${machineLine()}\n  preparing ${o.trainRows.toLocaleString()} training rows…\n`);
    const trainPath = join(dir, 'train.parquet');
    const testPath = join(dir, 'test.parquet');
    const sql = flightsSql(o);
    await engine.run(
      `COPY (SELECT * EXCLUDE (rn) FROM (${sql}) WHERE rn <= ${o.trainRows} ORDER BY rn) TO ${sqlString(trainPath)} (FORMAT parquet)`,
    );
    await engine.run(
      `COPY (SELECT * EXCLUDE (rn) FROM (${sql}) WHERE rn > ${o.trainRows} ORDER BY rn) TO ${sqlString(testPath)} (FORMAT parquet)`,
    );
    const train = await readTable(engine, { path: trainPath, features, label: 'late' });
    const test = await readTable(engine, { path: testPath, features, label: 'late' });
    const yTest = test.columns[labelColumn] as Float64Array;
    const input = { train, label: labelColumn, features, task: 'binary' as const, seed: 0 };

    process.stderr.write(`  Keel GBDT, ${o.trees} trees…\n`);
    let t = performance.now();
    const gbdt = await trainGbdt(input, {
      numTrees: o.trees,
      numLeaves: o.leaves,
      maxDepth: o.depth,
      learningRate: o.learningRate,
      minDataInLeaf: o.minDataInLeaf,
      maxBins: 255,
      earlyStoppingRounds: 0,
    });
    const gbdtSeconds = (performance.now() - t) / 1000;
    const gbdtAuc = binaryMetrics(yTest, gbdt.predict(test)).auc as number;

    process.stderr.write('  Keel logistic regression…\n');
    t = performance.now();
    const linear = await trainLogisticRegression({
      ...input,
      features: features.map((f) => (f.kind === 'categorical' ? { ...f, encoding: 'onehot' as const } : f)),
    });
    const linearSeconds = (performance.now() - t) / 1000;
    const linearAuc = binaryMetrics(yTest, linear.predict(test)).auc as number;

    process.stderr.write('  LightGBM…\n');
    const peer = o.lightgbm ? await lightgbm(o, trainPath, testPath) : undefined;
    const trees = gbdt.info.trees ?? o.trees;
    const lines = [
      '',
      `training rows: ${train.rows.toLocaleString()} × ${features.length} features; test rows: ${test.rows.toLocaleString()} (the next flights in time)`,
      `params: ${o.trees} trees, ${o.leaves} leaves, depth ${o.depth}, learning rate ${o.learningRate}, min ${o.minDataInLeaf} rows per leaf, 255 bins, 1 thread`,
      '| model | test AUC | train time | per tree |',
      '|---|---|---|---|',
      `| Keel GBDT (${trees} trees) | ${gbdtAuc.toFixed(4)} | ${gbdtSeconds.toFixed(1)} s | ${((gbdtSeconds / trees) * 1000).toFixed(0)} ms |`,
      ...(peer
        ? [
            `| LightGBM ${peer.iterations} trees | ${peer.auc.toFixed(4)} | ${peer.train_seconds.toFixed(1)} s | ${((peer.train_seconds / peer.iterations) * 1000).toFixed(0)} ms |`,
          ]
        : []),
      `| Keel logistic regression | ${linearAuc.toFixed(4)} | ${linearSeconds.toFixed(1)} s | |`,
    ];
    if (peer) {
      const ratio = gbdtSeconds / peer.train_seconds;
      const gap = gbdtAuc - peer.auc;
      lines.push(
        `Keel ÷ LightGBM train time: ${ratio.toFixed(2)}× (target ≤ 3×: ${ratio <= 3 ? 'PASS' : 'MISS'}); ` +
          `AUC difference ${gap.toFixed(4)} (target within 0.005: ${Math.abs(gap) <= 0.005 || gap > 0 ? 'PASS' : 'MISS'})`,
      );
    }
    lines.push(`load average ${loadAverage()}; code ${codeVersion()}; command: npm run bench -- training ${args.join(' ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}
