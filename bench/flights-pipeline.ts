import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { KeelClient, type PipelineRunView } from '../src/client/index.ts';
import { loadConfig, silentLogger } from '../src/core/index.ts';
import { createKeel } from '../src/main.ts';
import { FsBlobStore } from '../src/storage/index.ts';
import { flightsParquet } from '../test/helpers/flights.ts';
import { flightsExample, setUpFlightsPipeline, stepMetrics } from '../test/helpers/flights-pipeline.ts';
import { codeVersion, loadAverage, machineLine } from './lib/machine.ts';

/**
 * Issue 4 acceptance: the flights reference pipeline at full scale on this machine — all 3M
 * flights registered and validated, point-in-time features for every flight up to May 2001,
 * GBDT trained on the flights before 15 March (over 1M rows). Asserts that GBDT beats logistic
 * regression and the hour-of-day model on April, and compares Keel's GBDT with LightGBM
 * (one thread each) trained on the very same split files: time and test AUC.
 */
const run = promisify(execFile);

function stepSeconds(r: PipelineRunView, step: string): number {
  const s = r.steps.find((x) => x.step === step);
  return s?.startedAt && s.finishedAt ? (s.finishedAt - s.startedAt) / 1000 : Number.NaN;
}

async function lightgbm(blobDir: string, r: PipelineRunView, trainParams: Record<string, unknown>) {
  const python = (await run('sh', [join(import.meta.dirname, 'lightgbm/setup-venv.sh')], { timeout: 1_200_000 })).stdout.trim();
  const split = r.steps.find((s) => s.step === 'split')?.outputs?.artifacts ?? {};
  const blobs = await FsBlobStore.create(blobDir);
  const path = (name: string) => blobs.pathOf(split[name]?.digest ?? '');
  const pipeline = parse(await readFile(join(flightsExample, 'pipeline.yaml'), 'utf8'));
  const train = pipeline.steps.find((s: { name: string }) => s.name === 'train');
  const features = (train.params.features as (string | { name: string; kind: string })[]).map((f) =>
    typeof f === 'string' ? { name: f, kind: 'numeric' } : f,
  );
  const cfg = {
    train: path('train'),
    valid: path('valid'),
    test: path('test'),
    features,
    late_minutes: 15,
    learning_rate: Number(trainParams.learningRate),
    num_leaves: Number(trainParams.numLeaves),
    max_depth: 8,
    min_data_in_leaf: Number(trainParams.minDataInLeaf),
    num_trees: Number(trainParams.numTrees),
    threads: 1,
  };
  const out = await run(python, [join(import.meta.dirname, 'lightgbm/train_flights.py'), JSON.stringify(cfg)], {
    timeout: 1_200_000,
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as { seconds: number; iterations: number; auc: number };
}

export async function run_(args: string[]): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keel-bench-flights-'));
  const config = loadConfig({
    env: {},
    file: '/dev/null',
    overrides: { dataDir, server: { port: 0 }, log: { level: 'silent' } },
  });
  const keel = await createKeel(config, { logger: silentLogger });
  try {
    await keel.app.listen({ host: '127.0.0.1', port: 0 });
    const address = keel.app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const client = new KeelClient({ url, apiKey: keel.adminKey as string, timeoutMs: 3_600_000 });
    process.stderr.write(`flights-pipeline: ${machineLine()}\n  registering 3M flights and applying the pipeline…\n`);
    const t0 = performance.now();
    await setUpFlightsPipeline(client, flightsParquet);
    const setup = (performance.now() - t0) / 1000;
    const started = await client.pipelines.run('flights');
    const seen = new Set<string>();
    const done = await client.pipelines.wait(started.id, {
      intervalMs: 1000,
      onUpdate: (r) => {
        for (const s of r.steps) {
          if ((s.status === 'succeeded' || s.status === 'failed') && !seen.has(s.step)) {
            seen.add(s.step);
            process.stderr.write(`  ${s.step}: ${s.status} in ${stepSeconds(r, s.step).toFixed(1)} s\n`);
          }
        }
      },
    });
    if (done.status !== 'succeeded') throw new Error(`pipeline ${done.status}: ${done.error}`);
    const auc = {
      gbdt: stepMetrics(done, 'evaluate').auc as number,
      logreg: stepMetrics(done, 'evaluate_logreg').auc as number,
      hour: stepMetrics(done, 'evaluate_hour').auc as number,
    };
    const train = stepMetrics(done, 'train');
    const trainStep = done.steps.find((s) => s.step === 'train');
    const params = (trainStep?.outputs?.values.params ?? {}) as Record<string, unknown>;
    const peer = args.includes('--no-lightgbm') ? null : await lightgbm(join(dataDir, 'blobs'), done, params);
    const gbdtSeconds = stepSeconds(done, 'train');
    const ok = (train.train_rows ?? 0) >= 1_000_000 && auc.gbdt > auc.logreg && auc.gbdt > auc.hour;
    const out = [
      '',
      `training rows: ${train.train_rows?.toLocaleString()} (validation ${train.valid_rows?.toLocaleString()}); test rows: ${stepMetrics(done, 'evaluate').test_rows?.toLocaleString()}`,
      `setup (register + validate 3M flights, apply): ${setup.toFixed(1)} s; whole pipeline: ${(((done.finishedAt ?? 0) - done.createdAt) / 1000).toFixed(1)} s`,
      '| model (test: April 2001) | AUC | train time |',
      '|---|---|---|',
      `| Keel GBDT (${train['info.trees']} trees) | ${auc.gbdt.toFixed(4)} | ${gbdtSeconds.toFixed(1)} s |`,
      `| Keel logistic regression | ${auc.logreg.toFixed(4)} | ${stepSeconds(done, 'train_logreg').toFixed(1)} s |`,
      `| hour of day only | ${auc.hour.toFixed(4)} | ${stepSeconds(done, 'train_hour').toFixed(1)} s |`,
      ...(peer
        ? [
            `| LightGBM, 1 thread, same split and params (${peer.iterations} iterations) | ${peer.auc.toFixed(4)} | ${peer.seconds.toFixed(1)} s |`,
            `Keel/LightGBM train time = ${(gbdtSeconds / peer.seconds).toFixed(2)}×; AUC difference ${(auc.gbdt - peer.auc).toFixed(4)}`,
          ]
        : []),
      `GBDT beats both baselines on ≥1M training rows: ${ok ? 'PASS' : 'FAIL'}`,
      `steps: ${done.steps.map((s) => `${s.step} ${stepSeconds(done, s.step).toFixed(1)} s`).join(', ')}`,
      `load average ${loadAverage()}; code ${codeVersion()}; command: npm run bench -- flights-pipeline`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    if (!ok) process.exitCode = 1;
  } finally {
    await keel.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export { run_ as run };
