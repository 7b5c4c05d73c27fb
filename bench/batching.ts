/**
 * The per-model batcher against one model call per request, in the same process and run:
 * N closed-loop callers, each sending requests of `--rows` rows, on (a) a simulated model whose
 * cost is a fixed part plus a part per row (busy loop on the event loop, like a CPU model run
 * on the main thread) and (b) a real linear model in ONNX Runtime.
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import * as ort from 'onnxruntime-node';
import { buildLinearModel } from '../src/registry/index.ts';
import { type BatchInfo, createBatcher } from '../src/serving/batching/index.ts';
import { codeVersion, loadAverage, machineLine } from './lib/machine.ts';
import { fmtMs, fmtRatio, percentile, type Samples } from './lib/stats.ts';
import { UsageError } from './lib/usage-error.ts';

const help = `npm run bench -- batching [flags]

  --model <sim|ort|both>   simulated cost model, ONNX Runtime linear model, or both (default both)
  --concurrency <list>     closed-loop callers, comma separated (default 1,8,64)
  --seconds <s>            timed seconds per side and concurrency, in 8 rotating rounds (default 3)
  --rows <n>               rows per request (default 1)
  --max-batch <n>          batcher maxBatchItems (default 64)
  --max-delay <ms>         batcher maxDelayMs (default 2)
  --fixed-us <µs>          simulated model: fixed cost per call (default 300)
  --per-row-us <µs>        simulated model: cost per row (default 5)
  --features <n>           ONNX model: input features per row (default 16)
  --quick                  smoke run: 0.5 s per side
`;

type Run = (rows: Float32Array[]) => Promise<number[]>;
interface Side {
  name: string;
  call: Run;
  batches?: BatchInfo[];
}
interface Row {
  side: string;
  requests: number;
  reqPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  meanBatch: number;
}

function options(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      model: { type: 'string', default: 'both' },
      concurrency: { type: 'string', default: '1,8,64' },
      seconds: { type: 'string' },
      rows: { type: 'string' },
      'max-batch': { type: 'string' },
      'max-delay': { type: 'string' },
      'fixed-us': { type: 'string' },
      'per-row-us': { type: 'string' },
      features: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const num = (name: keyof typeof values, fallback: number, min = 1) => {
    const raw = values[name];
    if (raw === undefined || typeof raw === 'boolean') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, got '${raw}'`);
    return n;
  };
  if (!['sim', 'ort', 'both'].includes(values.model)) throw new UsageError('--model is sim, ort or both');
  const concurrency = values.concurrency.split(',').map((c) => Number(c));
  if (concurrency.some((c) => !Number.isSafeInteger(c) || c < 1)) throw new UsageError('--concurrency is a list of integers ≥ 1');
  return {
    help: values.help,
    models: values.model === 'both' ? ['sim', 'ort'] : [values.model],
    concurrency,
    seconds: num('seconds', values.quick ? 0.5 : 3, 0.1),
    rows: num('rows', 1),
    maxBatch: num('max-batch', 64),
    maxDelay: num('max-delay', 2, 0),
    fixedUs: num('fixed-us', 300, 0),
    perRowUs: num('per-row-us', 5, 0),
    features: num('features', 16),
  };
}

function busyWait(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // spin: the model run holds the event loop, as a CPU-bound run on the main thread would
  }
}

function simulatedModel(fixedUs: number, perRowUs: number): Run {
  return async (rows) => {
    busyWait(fixedUs + perRowUs * rows.length);
    return rows.map((r) => r[0] ?? 0);
  };
}

async function onnxModel(features: number): Promise<{ run: Run; close: () => Promise<void> }> {
  const weights = Array.from({ length: features }, (_, i) => ((i % 7) - 3) / 10);
  const session = await ort.InferenceSession.create(buildLinearModel({ features, weights, bias: 0.1, sigmoid: true }));
  const run: Run = async (rows) => {
    const x = new Float32Array(rows.length * features);
    rows.forEach((r, i) => {
      x.set(r, i * features);
    });
    const out = await session.run({ x: new ort.Tensor('float32', x, [rows.length, features]) });
    return Array.from(out.y?.data as Float32Array);
  };
  return { run, close: () => session.release() };
}

/** Times the sides at one concurrency in rotating rounds so machine load falls on all alike. */
/**
 * N closed-loop callers for `ms` of wall time: each sends its next request when its last one is
 * answered. Time-boxed rather than counted, so every side gets the same share of a noisy machine.
 */
async function timedLoop(concurrency: number, ms: number, op: () => Promise<void>, into: Samples): Promise<void> {
  const started = performance.now();
  const end = started + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await op();
      into.latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  into.wallMs += performance.now() - started;
}

/** Times the sides at one concurrency in rotating rounds so machine load falls on all alike. */
async function measure(sides: Side[], concurrency: number, o: ReturnType<typeof options>, features: number): Promise<Row[]> {
  const requests = Array.from({ length: 997 }, (_, i) =>
    Array.from({ length: o.rows }, (_, r) => Float32Array.from({ length: features }, (_, f) => ((i + r + f) % 5) - 2)),
  );
  let next = 0;
  const op = (side: Side) => async () => void (await side.call(requests[next++ % requests.length] as Float32Array[]));
  const samples = sides.map((): Samples => ({ latencies: [], wallMs: 0 }));
  for (const side of sides) await timedLoop(concurrency, 200, op(side), { latencies: [], wallMs: 0 });
  for (const side of sides) side.batches?.splice(0);
  const rounds = 8;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const s = (k + r) % sides.length;
      await timedLoop(concurrency, (o.seconds * 1000) / rounds, op(sides[s] as Side), samples[s] as Samples);
    }
  }
  return sides.map((side, s) => {
    const { latencies, wallMs } = samples[s] as Samples;
    const sorted = [...latencies].sort((a, b) => a - b);
    const batches = side.batches ?? [];
    const meanBatch = batches.length ? batches.reduce((n, b) => n + b.items, 0) / batches.length : o.rows;
    return {
      side: side.name,
      requests: sorted.length,
      reqPerSec: (sorted.length / wallMs) * 1000,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      meanBatch,
    };
  });
}

function batchedSide(name: string, run: Run, o: ReturnType<typeof options>, adaptive: boolean): Side {
  const batches: BatchInfo[] = [];
  const batcher = createBatcher<Float32Array, number>({
    runBatch: (items) => run(items),
    maxBatchItems: o.maxBatch,
    maxDelayMs: o.maxDelay,
    maxQueueItems: 100_000,
    adaptive,
    onBatch: (info) => batches.push(info),
  });
  return { name, call: (rows) => batcher.submit(rows), batches };
}

export async function run(args: string[]): Promise<void> {
  const o = options(args);
  if (o.help) {
    process.stdout.write(help);
    return;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`batching benchmark — ${machineLine()}; code ${codeVersion()}`);
  say(
    `requests of ${o.rows} row(s); ${o.seconds} s per side and concurrency in 8 rotating rounds; maxBatchItems ${o.maxBatch}, maxDelayMs ${o.maxDelay}`,
  );
  for (const model of o.models) {
    const ortModel = model === 'ort' ? await onnxModel(o.features) : undefined;
    const call = ortModel?.run ?? simulatedModel(o.fixedUs, o.perRowUs);
    const features = model === 'ort' ? o.features : 1;
    say(
      model === 'ort'
        ? `\nONNX Runtime ${ort.env.versions.common}: linear model, sigmoid(x·W + b), ${o.features} float32 features per row`
        : `\nsimulated model: ${o.fixedUs} µs per call + ${o.perRowUs} µs per row, busy loop on the event loop`,
    );
    const t = new Table({
      style: { head: [], border: [] },
      head: [
        'callers',
        'side',
        'requests',
        'req/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'mean batch rows',
        'req/s vs unbatched',
        'p99 vs unbatched',
      ],
    });
    for (const c of o.concurrency) {
      const sides = [
        { name: 'unbatched (1 call per request)', call },
        batchedSide('batched, adaptive wait', call, o, true),
        batchedSide(`batched, fixed ${o.maxDelay} ms wait`, call, o, false),
      ];
      const rows = await measure(sides, c, o, features);
      const base = rows[0] as Row;
      for (const r of rows) {
        const isBase = r === base;
        t.push([
          c,
          r.side,
          r.requests,
          r.reqPerSec.toFixed(0),
          fmtMs(r.p50),
          fmtMs(r.p95),
          fmtMs(r.p99),
          r.meanBatch.toFixed(1),
          isBase ? '' : fmtRatio(r.reqPerSec / base.reqPerSec),
          isBase ? '' : fmtRatio(r.p99 / base.p99),
        ]);
      }
    }
    say(t.toString());
    await ortModel?.close();
  }
  say(`load average ${loadAverage()}`);
}
