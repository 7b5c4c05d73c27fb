import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import Table from 'cli-table3';
import { buildLinearModel } from '../src/registry/index.ts';
import { concurrencyFlag, intFlag, startBareServer } from './lib/bare-server.ts';
import { Cleanup } from './lib/cleanup.ts';
import { BenchHttpClient } from './lib/http-client.ts';
import { startKeelProcess } from './lib/keel-process.ts';
import { codeVersion, loadAverage, machineLine } from './lib/machine.ts';
import { fmtMs, fmtRatio, percentile, runClosedLoop, type Samples } from './lib/stats.ts';

const help = `npm run bench -- serving-oip [flags]

  --concurrency <list>   closed-loop clients, comma separated (default 1,8,64)
  --requests <n>         timed requests per side and concurrency (default 6000)
  --features <n>         inputs of the linear model (default 16)
  --quick                smoke run: 600 requests per side
`;

function options(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      concurrency: { type: 'string', default: '1,8,64' },
      requests: { type: 'string' },
      features: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const concurrency = concurrencyFlag(values.concurrency);
  return {
    help: values.help,
    concurrency,
    requests: intFlag(values.requests, values.quick ? 600 : 6000, 10, 'requests'),
    features: intFlag(values.features, 16, 1, 'features'),
  };
}

/** Registers the model in Keel and returns a predictor key, with the model loaded and warm. */
async function seedKeel(url: string, adminKey: string, model: Uint8Array, name: string): Promise<string> {
  const auth = { authorization: `Bearer ${adminKey}` };
  const ok = async (res: Response) => {
    if (!res.ok) throw new Error(`${res.url} answered ${res.status}: ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const upload = await ok(
    await fetch(`${url}/api/v1/uploads`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: Buffer.from(model),
    }),
  );
  const json = { ...auth, 'content-type': 'application/json' };
  await ok(
    await fetch(`${url}/api/v1/models/${name}/versions`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ source: { upload: upload.digest } }),
    }),
  );
  const key = await ok(
    await fetch(`${url}/api/v1/keys`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ role: 'predictor', projects: ['default'] }),
    }),
  );
  await ok(await fetch(`${url}/v2/repository/models/${name}/load`, { method: 'POST', headers: auth }));
  return key.key as string;
}

interface Side {
  name: string;
  client: BenchHttpClient;
}

interface Result {
  side: string;
  concurrency: number;
  reqPerSec: number;
  p50: number;
  p99: number;
}

async function measure(sides: Side[], path: string, body: (i: number) => string, concurrency: number, requests: number) {
  const call = async (side: Side, i: number) => {
    await side.client.expect('POST', path, body(i), 200);
  };
  const warmup = Math.max(concurrency * 4, Math.floor(requests / 10));
  for (const side of sides) await runClosedLoop(0, warmup, concurrency, (i) => call(side, i));
  const samples = sides.map((): Samples => ({ latencies: [], wallMs: 0 }));
  const rounds = 6;
  const per = Math.ceil(requests / rounds);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const s = (k + r) % sides.length;
      const side = sides[s] as Side;
      await runClosedLoop(r * per, (r + 1) * per, concurrency, (i) => call(side, i), samples[s]);
    }
  }
  return sides.map((side, s): Result => {
    const { latencies, wallMs } = samples[s] as Samples;
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      side: side.name,
      concurrency,
      reqPerSec: (sorted.length / wallMs) * 1000,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    };
  });
}

export async function run(args: string[]): Promise<void> {
  const o = options(args);
  if (o.help) {
    process.stdout.write(help);
    return;
  }
  const cleanup = new Cleanup();
  try {
    const dir = await mkdtemp(join(tmpdir(), 'keel-bench-oip-'));
    cleanup.add('remove the temp dir', () => rm(dir, { recursive: true, force: true }));
    const weights = Array.from({ length: o.features }, (_, i) => ((i % 7) - 3) / 10);
    const model = buildLinearModel({ features: o.features, weights, bias: 0.1, sigmoid: true });
    const modelPath = join(dir, 'model.onnx');
    await writeFile(modelPath, model);

    const keelDir = join(dir, 'keel');
    await mkdir(keelDir);
    const keel = await startKeelProcess({ dataDir: keelDir }, cleanup);
    const { url: baselineUrl } = await startBareServer(modelPath, cleanup);
    const name = 'bench-linear';
    const predictorKey = await seedKeel(keel.url, keel.adminKey, model, name);
    const maxC = Math.max(...o.concurrency);
    const sides: Side[] = [
      { name: 'baseline (bare Fastify + ORT)', client: new BenchHttpClient(baselineUrl, 'none', maxC) },
      { name: 'keel OIP infer', client: new BenchHttpClient(keel.url, predictorKey, maxC) },
    ];
    for (const side of sides) cleanup.add(`close ${side.name} client`, () => side.client.close());
    const body = (i: number) =>
      JSON.stringify({
        id: String(i),
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [1, o.features],
            data: Array.from({ length: o.features }, (_, f) => (i + f) % 5),
          },
        ],
      });
    const path = `/v2/models/${name}/infer`;
    // Both sides must compute the same thing before their speed is compared.
    const answers = await Promise.all(
      sides.map(
        async (s) => (JSON.parse((await s.client.expect('POST', path, body(7), 200)).toString()) as { outputs: unknown }).outputs,
      ),
    );
    if (!isDeepStrictEqual(answers[0], answers[1])) throw new Error(`the sides disagree: ${JSON.stringify(answers)}`);

    process.stdout.write(`serving-oip: linear model (${o.features} FP32 inputs → sigmoid), 1 row per request\n`);
    process.stdout.write(`machine: ${machineLine()}\ncode: ${codeVersion()}\n\n`);
    const results: Result[] = [];
    for (const c of o.concurrency) results.push(...(await measure(sides, path, body, c, o.requests)));

    const table = new Table({
      head: ['concurrency', 'side', 'req/s', 'p50 ms', 'p99 ms', 'keel ÷ baseline req/s', 'keel − baseline p50'],
    });
    for (const c of o.concurrency) {
      const [base, keelSide] = results.filter((r) => r.concurrency === c) as [Result, Result];
      for (const r of [base, keelSide]) {
        const isKeel = r === keelSide;
        table.push([
          String(c),
          r.side,
          r.reqPerSec.toFixed(0),
          fmtMs(r.p50),
          fmtMs(r.p99),
          isKeel ? fmtRatio(r.reqPerSec / base.reqPerSec) : '',
          isKeel ? `${((r.p50 - base.p50) * 1000).toFixed(0)} µs` : '',
        ]);
      }
    }
    process.stdout.write(`${table.toString()}\n`);
    process.stdout.write(`requests per side and concurrency: ${o.requests}; load average after: ${loadAverage()}\n`);
  } finally {
    await cleanup.run();
  }
}
