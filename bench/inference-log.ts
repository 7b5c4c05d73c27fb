import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { serialize } from 'node:v8';
import { InferenceLog, type InferenceRecord, LineBuffer } from '../src/serving/inference-log/index.ts';
import { createAnalyticsEngine, sqlString } from '../src/storage/index.ts';
import { Cleanup } from './lib/cleanup.ts';
import { codeVersion, loadAverage, machineLine } from './lib/machine.ts';
import { fmtMs, fmtRatio, percentile, runClosedLoop, type Samples } from './lib/stats.ts';
import { UsageError } from './lib/usage-error.ts';

const help = `npm run bench -- inference-log [flags]

  --appends <n>   timed appends per side and concurrency level (default 20000)
  --rounds <n>    alternating rounds per level, so load drift hits both sides alike (default 4)
  --dir <path>    folder for the two logs (default: a temp folder; same disk for both sides)
  --quick         2000 appends per side and level
  --compaction <n>  records per compaction round (default 20000; --quick 4000); 0 skips it
  --encoding <n>  timed encodings per measure (default 100000; --quick 20000); 0 skips it

Compaction: CPU per record (every thread of this process) of rolling a segment into Parquet,
against DuckDB converting the same records from plain JSON lines (no checksums) in the same run.

Encoding: main-thread µs per record of what an append does before its write (JSON.stringify, then
laying the line with its MD5), against V8's serializer, the structured clone that handing the
record to a worker thread would cost instead (ADR 0007).
`;

function options(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      appends: { type: 'string' },
      rounds: { type: 'string' },
      dir: { type: 'string' },
      quick: { type: 'boolean' },
      compaction: { type: 'string' },
      encoding: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    process.exit(0);
  }
  const appends = Number(values.appends ?? (values.quick ? 2000 : 20_000));
  const rounds = Number(values.rounds ?? 4);
  if (!Number.isInteger(appends) || appends < rounds) throw new UsageError('--appends must be an integer ≥ --rounds');
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError('--rounds must be a positive integer');
  const compaction = Number(values.compaction ?? (values.quick ? 4000 : 20_000));
  if (!Number.isInteger(compaction) || compaction < 0) throw new UsageError('--compaction must be a non-negative integer');
  const encoding = Number(values.encoding ?? (values.quick ? 20_000 : 100_000));
  if (!Number.isInteger(encoding) || encoding < 0) throw new UsageError('--encoding must be a non-negative integer');
  return { appends, rounds, dir: values.dir, compaction, encoding };
}

/** A record the size of a flights prediction: a few request fields, five features, two outputs. */
function record(i: number): InferenceRecord {
  return {
    requestId: `req_${i.toString(36).padStart(10, '0')}`,
    time: Date.now(),
    deployment: 'flights-delay',
    model: { name: 'flights', version: 3, digest: `sha256:${'7f'.repeat(32)}` },
    arm: i % 10 === 0 ? 'canary' : 'stable',
    inputs: { origin: 'SFO', destination: 'JFK', distance: 2586, departure: 1_700_000_000_000 + i },
    features: {
      values: { origin_delay_1h: 12.5, dest_delay_1h: 3.25, route_delay_7d: 8.75, hour: 14, weekday: 3 },
      statuses: {
        origin_delay_1h: 'PRESENT',
        dest_delay_1h: 'PRESENT',
        route_delay_7d: 'PRESENT',
        hour: 'PRESENT',
        weekday: 'PRESENT',
      },
    },
    outputs: { predictions: [1], probabilities: [[0.31, 0.69]] },
    latencyMs: 1.7,
    randomDraw: (i % 997) / 997,
    degraded: false,
    extra: {},
  };
}

/** The 15 features examples/flights/features.yaml's `delay_model` serves: 13 online, 2 request-time. */
const servedFeatures = [
  ...['mean_1h', 'mean_24h', 'mean_7d', 'count_1h', 'count_24h', 'count_7d', 'max_24h'].map((s) => `origin_delays__delay_${s}`),
  ...['mean_1h', 'mean_24h', 'mean_7d', 'count_24h'].map((s) => `destination_delays__delay_${s}`),
  'route_profile__distance',
  'route_profile__last_delay',
  'hour',
  'weekday',
];

/** The record bench/serving's predict side logs: the request's three fields, each feature's value and status, two outputs. */
function servedRecord(i: number): InferenceRecord {
  const values: Record<string, number> = {};
  const statuses: Record<string, string> = {};
  for (const [k, name] of servedFeatures.entries()) {
    values[name] = ((i * 7919 + k * 104_729) % 100_000) / 997;
    statuses[name] = 'PRESENT';
  }
  return {
    requestId: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
    time: 1_796_000_000_000 + i,
    deployment: 'delay',
    model: { name: 'flights-delay', version: 1, digest: `sha256:${'7f'.repeat(32)}` },
    arm: null,
    inputs: { origin: 'ORD', destination: 'LGA', event_timestamp: '2001-01-21T06:00:00.000Z' },
    features: { values, statuses },
    outputs: { probability: 0.3112312316894531, label: 1 },
    latencyMs: 1.723423,
    randomDraw: (i % 997) / 997,
    degraded: false,
    extra: { project: 'prj_6mjt3mnevb1ncumd' },
  };
}

/** µs per call of `fn` over `n` calls, after a warm-up of a fifth as many. */
function usPerCall(n: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < n / 5; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t0) * 1000) / n;
}

/** What an append costs the main thread before its write, against a structured clone of the same records. */
function encodingCosts(n: number): string {
  const records = Array.from({ length: 200 }, (_, i) => servedRecord(i));
  const bytes = JSON.stringify(records[0]).length;
  const lines = new LineBuffer();
  const pick = (i: number) => records[i % records.length] as InferenceRecord;
  const stringify = usPerCall(n, (i) => JSON.stringify(pick(i)));
  const laid = usPerCall(n, (i) => {
    if (lines.bytes > 1 << 20) lines.reset();
    return lines.push(JSON.stringify(pick(i)));
  });
  const clone = usPerCall(n, (i) => serialize(pick(i)));
  return (
    `encoding a served flights record (${bytes} bytes of JSON), µs per record on this thread: ` +
    `JSON.stringify ${stringify.toFixed(2)}, stringified and laid with its MD5 ${laid.toFixed(2)}; ` +
    `v8.serialize (a worker hand-off's clone) ${clone.toFixed(2)}, ${fmtRatio(clone / stringify)} JSON.stringify\n`
  );
}

const cpuMsSince = (before: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};

/**
 * CPU and wall time of compacting `n` records: Keel's log rolling its segment into Parquet (the
 * checksum check, the JSON transform, zstd), against DuckDB reading the same records as plain
 * JSON lines into Parquet with the same compression and thread count.
 */
async function compactionRound(root: string, round: number, n: number, nextId: () => number) {
  const records = Array.from({ length: n }, () => record(nextId()));
  const log = await InferenceLog.open({ dir: join(root, `compaction-${round}`), segmentMaxBytes: 1 << 30 });
  for (let i = 0; i < n; i += 512) await Promise.all(records.slice(i, i + 512).map((r) => log.append(r)));
  let cpu = process.cpuUsage();
  let wall = performance.now();
  await log.roll();
  await log.compactNow();
  const keel = { cpuMs: cpuMsSince(cpu), wallMs: performance.now() - wall };
  if (log.stats().recordsCompacted !== n) throw new Error(`compacted ${log.stats().recordsCompacted} of ${n} records`);
  await log.close();

  const lines = join(root, `plain-${round}.jsonl`);
  await writeFile(lines, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const engine = await createAnalyticsEngine({ threads: 1 });
  try {
    cpu = process.cpuUsage();
    wall = performance.now();
    await engine.run(
      `COPY (SELECT * FROM read_ndjson(${sqlString(lines)})) TO ${sqlString(join(root, `plain-${round}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return { keel, plain: { cpuMs: cpuMsSince(cpu), wallMs: performance.now() - wall } };
  } finally {
    await engine.close();
  }
}

interface Side {
  samples: Samples;
  log: InferenceLog;
}

function summary(s: Side) {
  const sorted = [...s.samples.latencies].sort((a, b) => a - b);
  return {
    perSec: (sorted.length / s.samples.wallMs) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

export async function run(args: string[]): Promise<void> {
  const opts = options(args);
  const cleanup = new Cleanup();
  const root = opts.dir ?? (await mkdtemp(join(tmpdir(), 'keel-bench-ilog-')));
  if (!opts.dir) cleanup.add('remove temp folder', () => rm(root, { recursive: true, force: true }));
  try {
    process.stdout.write(`inference log: ${opts.appends} appends per side and level, ${opts.rounds} alternating rounds\n`);
    process.stdout.write(`machine: ${machineLine()}; load ${loadAverage()}; code ${codeVersion()}; folder ${root}\n\n`);
    const rows: string[] = [];
    let id = 0;
    for (const concurrency of [1, 16, 128]) {
      // Fresh logs per level so the Parquet compactor of one level never runs during the next.
      const group: Side = {
        samples: { latencies: [], wallMs: 0 },
        log: await InferenceLog.open({ dir: join(root, `group-${concurrency}`) }),
      };
      const single: Side = {
        samples: { latencies: [], wallMs: 0 },
        log: await InferenceLog.open({ dir: join(root, `single-${concurrency}`), maxBatchBytes: 1 }),
      };
      cleanup.add('close logs', async () => {
        await group.log.close();
        await single.log.close();
      });
      const warm = Math.min(500, opts.appends);
      for (const side of [group, single]) await runClosedLoop(0, warm, concurrency, () => side.log.append(record(id++)));
      const per = Math.ceil(opts.appends / opts.rounds);
      for (let r = 0; r < opts.rounds; r++) {
        const order = r % 2 === 0 ? [group, single] : [single, group];
        for (const side of order) await runClosedLoop(0, per, concurrency, () => side.log.append(record(id++)), side.samples);
      }
      const g = summary(group);
      const s = summary(single);
      const gs = group.log.stats();
      const batch = (gs.appends / gs.syncs).toFixed(1);
      rows.push(
        `| ${concurrency} | ${g.perSec.toFixed(0)} | ${fmtMs(g.p50)} / ${fmtMs(g.p99)} ms | ${batch} | ${s.perSec.toFixed(0)} | ${fmtMs(s.p50)} / ${fmtMs(s.p99)} ms | **${fmtRatio(g.perSec / s.perSec)}** |`,
      );
      process.stdout.write(
        `concurrency ${String(concurrency).padStart(3)}: group commit ${g.perSec.toFixed(0)}/s p50 ${fmtMs(g.p50)} p99 ${fmtMs(g.p99)} ms (${batch} records per fdatasync); ` +
          `one fsync per record ${s.perSec.toFixed(0)}/s p50 ${fmtMs(s.p50)} p99 ${fmtMs(s.p99)} ms; ratio ${fmtRatio(g.perSec / s.perSec)}\n`,
      );
      await group.log.close();
      await single.log.close();
    }
    if (opts.encoding > 0) process.stdout.write(encodingCosts(opts.encoding));
    if (opts.compaction > 0) {
      const sum = { keelCpu: 0, keelWall: 0, plainCpu: 0, plainWall: 0 };
      const rounds = 3;
      for (let r = 0; r < rounds; r++) {
        const { keel, plain } = await compactionRound(root, r, opts.compaction, () => id++);
        sum.keelCpu += keel.cpuMs;
        sum.keelWall += keel.wallMs;
        sum.plainCpu += plain.cpuMs;
        sum.plainWall += plain.wallMs;
      }
      const perRecordUs = (ms: number) => ((ms * 1000) / (rounds * opts.compaction)).toFixed(1);
      process.stdout.write(
        `compaction, ${rounds} rounds of ${opts.compaction} records: Keel ${perRecordUs(sum.keelCpu)} µs CPU per record (wall ${perRecordUs(sum.keelWall)}); ` +
          `plain JSON lines → Parquet ${perRecordUs(sum.plainCpu)} µs (wall ${perRecordUs(sum.plainWall)}); ratio ${fmtRatio(sum.keelCpu / sum.plainCpu)} CPU\n`,
      );
    }
    process.stdout.write(
      `\n| concurrency | group commit appends/s | p50 / p99 | records per fdatasync | one fsync per record appends/s | p50 / p99 | throughput ratio |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
    );
  } finally {
    await cleanup.run();
  }
}
