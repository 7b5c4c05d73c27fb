/**
 * `npm run bench -- <name> [--flags]`: runs one benchmark. Each benchmark is `bench/<name>.ts`
 * exporting `run(args)`; it is imported only when chosen, so one benchmark's heavy dependencies
 * never slow another down.
 */
import { isUsageError } from './lib/usage-error.ts';

interface BenchEntry {
  summary: string;
  load: () => Promise<{ run(args: string[]): Promise<void> }>;
}

const benchmarks: Record<string, BenchEntry> = {
  tracking: {
    summary: 'run search (20 clients) and log-batch latency vs the same SQL run directly; --quick, --postgres',
    load: () => import('./tracking.ts'),
  },
  'features-offline': {
    summary:
      'historical retrieval, 3M flights × 3 views vs a hand-written ASOF join and the Feast-style query; --quick, --no-feast',
    load: () => import('./features-offline.ts'),
  },
  batching: {
    summary: 'per-model batcher vs one model call per request, 1/8/64 callers, simulated and ONNX Runtime model; --quick',
    load: () => import('./batching.ts'),
  },
  'features-online': {
    summary: 'online reads (1×250, 100×50) and 1M-entity materialization vs raw Redis; --quick, --only read|write',
    load: () => import('./features-online.ts'),
  },
  'flights-pipeline': {
    summary:
      'the flights reference pipeline at full scale (>1M training rows), GBDT vs LightGBM on the same split; --no-lightgbm',
    load: () => import('./flights-pipeline.ts'),
  },
  training: {
    summary: 'GBDT on 1M flights × 10 features vs LightGBM (same rows, params, trees, 1 thread): time per tree, AUC; --quick',
    load: () => import('./training.ts'),
  },
  'serving-oip': {
    summary: 'OIP v2 infer on Keel vs a bare Fastify + ONNX Runtime server, same model, concurrency 1/8/64; --quick',
    load: () => import('./serving-oip.ts'),
  },
  serving: {
    summary:
      'flights GBDT: bare Fastify + ORT vs Keel OIP infer vs Keel predict (features + log), 1/8/64; batching and log on/off; --quick',
    load: () => import('./serving.ts'),
  },
  'cpu-profile': {
    summary: 'self time per request of one side, from BENCH_CPU_PROF profiles cut by BENCH_ROUNDS; --against for a difference',
    load: () => import('./cpu-profile.ts'),
  },
  'inference-log': {
    summary: 'durable appends/s and p50/p99 at concurrency 1, 16, 128: group commit vs one fsync per record; --quick',
    load: () => import('./inference-log.ts'),
  },
};

function usage(problem: string): never {
  const width = Math.max(...Object.keys(benchmarks).map((n) => n.length));
  const list = Object.entries(benchmarks).map(([name, b]) => `  ${name.padEnd(width)}  ${b.summary}`);
  process.stderr.write(`${problem}\nusage: npm run bench -- <name> [--flags]\n\navailable benchmarks:\n${list.join('\n')}\n`);
  process.exit(2);
}

const [name, ...args] = process.argv.slice(2);
if (!name || name.startsWith('-')) usage('no benchmark named');
const entry = Object.hasOwn(benchmarks, name) ? benchmarks[name] : undefined;
if (!entry) usage(`unknown benchmark '${name}'`);

try {
  await (await entry.load()).run(args);
} catch (e) {
  if (isUsageError(e)) {
    process.stderr.write(`${(e as Error).message}\n(npm run bench -- ${name} --help lists the flags)\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`\nbenchmark '${name}' failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
