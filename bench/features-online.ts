import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import Table from 'cli-table3';
import { Redis } from 'ioredis';
import { testServiceEnv } from '../src/core/index.ts';
import { RedisOnlineStore, SqliteOnlineStore } from '../src/storage/index.ts';
import { featureNames } from './features-online/data.ts';
import {
  checkSidesAgree,
  type ReadDataset,
  type ReadScenario,
  rawSides,
  requestMaker,
  seedReadData,
  timeSides,
} from './features-online/read-bench.ts';
import { deleteKeysUnder } from './features-online/redis-keys.ts';
import {
  dropMaterialized,
  keelMaterialize,
  type MaterializeRun,
  materializeData,
  rawMaterialize,
  sampleValues,
} from './features-online/write-bench.ts';
import { Cleanup } from './lib/cleanup.ts';
import { loadAverage, machineLine } from './lib/machine.ts';
import { fmtMs, fmtRatio } from './lib/stats.ts';

const targets = { readP99: 2, materialize: 2 };

const help = `npm run bench -- features-online [flags]

  --redis <url>        Redis to use (default KEEL_TEST_REDIS_URL or redis://127.0.0.1:6379); keys under keel-bench:<random>:, deleted after
  --entities <n>       entities per view for the read benchmark (default 10000)
  --requests <n>       timed reads per side and scenario (default 5000)
  --warmup <n>         untimed reads per side first (default 300)
  --materialize <n>    entities for the materialization benchmark (default 1000000)
  --features <n>       features per entity when materializing (default 50)
  --batch <n>          rows per write() when materializing (default 10000)
  --only <read|write>  run one half
  --quick              smoke run: 2000 entities, 500 reads, 50000 materialized
`;

function options(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      redis: { type: 'string' },
      entities: { type: 'string' },
      requests: { type: 'string' },
      warmup: { type: 'string' },
      materialize: { type: 'string' },
      features: { type: 'string' },
      batch: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const int = (name: keyof typeof values, fallback: number, min = 1) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
    return n;
  };
  if (values.only !== undefined && values.only !== 'read' && values.only !== 'write') throw new Error('--only is read or write');
  const q = values.quick;
  return {
    help: values.help,
    redisUrl: values.redis ?? testServiceEnv().redisUrl,
    only: values.only,
    entities: int('entities', q ? 2000 : 10_000, 100),
    requests: int('requests', q ? 500 : 5000, 10),
    warmup: int('warmup', q ? 50 : 300, 0),
    materialize: int('materialize', q ? 50_000 : 1_000_000),
    features: int('features', 50),
    batch: int('batch', 10_000),
  };
}
type Options = ReturnType<typeof options>;

const plain = { head: [], border: [] };
const say = (line: string) => process.stdout.write(`${line}\n`);
const verdict = (ratio: number, target: number) => (ratio <= target ? 'PASS' : 'MISS');

const scenarios: ReadScenario[] = [
  { name: '1 entity × 250 features', entities: 1, perView: 50 },
  { name: '100 entities × 50 features', entities: 100, perView: 10 },
];

async function readBench(o: Options, redis: Redis, prefix: string, dataDir: string, cleanup: Cleanup): Promise<void> {
  const data: ReadDataset = { views: ['fv_0', 'fv_1', 'fv_2', 'fv_3', 'fv_4'], features: featureNames(50), entities: o.entities };
  const keel = await RedisOnlineStore.open({ url: o.redisUrl, keyPrefix: prefix });
  cleanup.add('close redis store', () => keel.close());
  const embedded = SqliteOnlineStore.open(join(dataDir, 'online.db'));
  cleanup.add('close embedded store', () => embedded.close());
  say(
    `\n(b) online reads: ${data.views.length} views × ${data.features.length} features, ${o.entities} entities each, in both stores`,
  );
  say(
    `    ${o.requests} timed reads per side (after ${o.warmup} warm-up), one at a time, random entities, side order rotating over 50 rounds`,
  );
  say(
    '    raw = the same keys fetched straight with ioredis as Buffers (pipelined MGET per view, or one GET per key), not decoded',
  );
  await seedReadData([keel, embedded], data);
  const raw = rawSides(redis, prefix);
  const t = new Table({
    style: plain,
    head: ['read (ms)', 'side', 'p50', 'p99', 'mean', 'p50 vs raw MGET', 'p99 vs raw MGET', `p99 ≤${targets.readP99}×`],
  });
  for (const scenario of scenarios) {
    const make = requestMaker(data, scenario);
    await checkSidesAgree([keel, embedded], raw.mget, make);
    process.stderr.write(`  timing ${scenario.name}…\n`);
    const stats = await timeSides(
      { 'raw MGET': raw.mget, 'raw GET': raw.get, 'Keel redis': (r) => keel.read(r), 'Keel embedded': (r) => embedded.read(r) },
      make,
      { requests: o.requests, warmup: o.warmup, rounds: 50 },
    );
    const base = stats['raw MGET'];
    for (const [side, s] of Object.entries(stats)) {
      const isKeel = side.startsWith('Keel');
      const r50 = base ? s.p50 / base.p50 : Number.NaN;
      const r99 = base ? s.p99 / base.p99 : Number.NaN;
      t.push([
        scenario.name,
        side,
        fmtMs(s.p50),
        fmtMs(s.p99),
        fmtMs(s.mean),
        fmtRatio(r50),
        fmtRatio(r99),
        isKeel ? verdict(r99, targets.readP99) : '',
      ]);
    }
  }
  say(t.toString());
  say(
    '    Feast for context (its own published runs, other hardware): Go server p99 5.85 ms for 1 × 250, Java server p99 17 ms for 100 × 50',
  );
  say(`    load average ${loadAverage()} after reads`);
}

async function writeBench(o: Options, redis: Redis, prefix: string, cleanup: Cleanup): Promise<void> {
  const mo = { entities: o.materialize, features: o.features, batch: o.batch, blocks: 4 };
  const keelPrefix = `${prefix}mat:`;
  const rawPrefix = `${prefix}raw:`;
  const keel = await RedisOnlineStore.open({ url: o.redisUrl, keyPrefix: keelPrefix, commandTimeoutMs: 10_000 });
  cleanup.add('close materialize store', () => keel.close());
  say(
    `\n(c) materializing ${mo.entities.toLocaleString('en-US')} entities × ${mo.features} features into Redis, write() batches of ${mo.batch}`,
  );
  say(
    '    Keel = RedisOnlineStore.write() (latest-wins Lua script, 100 keys per call, pipelined); raw = pipelined SET of the same pre-encoded values',
  );
  const d = materializeData(mo);
  const runs: MaterializeRun[] = [];
  runs.push(await rawMaterialize(redis, rawPrefix, mo, d, 'raw SET, fresh keys', true));
  const rawSample = await sampleValues(redis, rawPrefix, mo.entities);
  runs.push(await rawMaterialize(redis, rawPrefix, mo, d, 'raw SET, rerun over existing keys', false));
  await deleteKeysUnder(redis, rawPrefix);
  runs.push(await keelMaterialize(keel, redis, mo, d, 'Keel write(), fresh keys', true));
  const keelSample = await sampleValues(redis, keelPrefix, mo.entities);
  runs.push(await keelMaterialize(keel, redis, mo, d, 'Keel write(), rerun over existing keys', false));
  if (!isDeepStrictEqual(rawSample, keelSample) || keelSample.some((v) => v === null))
    throw new Error('Keel and raw stored different bytes');
  const bytes = keelSample.reduce((n, v) => n + (v?.length ?? 0), 0) / keelSample.length;
  say(
    `    check: ${keelSample.length} sampled keys hold byte-identical values on both sides (${bytes.toFixed(0)} bytes per value)`,
  );
  const deleteSeconds = await dropMaterialized(keel, redis, rawPrefix);
  const [rawFresh, rawRerun, keelFresh, keelRerun] = runs;
  const t = new Table({
    style: plain,
    head: ['materialize', 'seconds', 'rows/s', 'Redis bytes/key', 'vs raw', `≤${targets.materialize}×`],
  });
  for (const r of runs) {
    const baseline = r.label.includes('rerun') ? rawRerun : rawFresh;
    const ratio = baseline ? r.seconds / baseline.seconds : Number.NaN;
    const isKeel = r === keelFresh || r === keelRerun;
    t.push([
      r.label,
      r.seconds.toFixed(1),
      Math.round(r.rowsPerSecond).toLocaleString('en-US'),
      r.bytesPerKey?.toFixed(0) ?? '',
      isKeel ? fmtRatio(ratio) : '',
      isKeel ? verdict(ratio, targets.materialize) : '',
    ]);
  }
  say(t.toString());
  say(`    deleteView of ${mo.entities.toLocaleString('en-US')} keys (SCAN + UNLINK): ${deleteSeconds.toFixed(1)} s`);
  say('    Feast for context: users report about 20 minutes to materialize 1M entities into Redis');
  say(`    load average ${loadAverage()} at the end`);
}

/** `npm run bench -- features-online`: issue 3 (b) online reads and (c) materialization, each against raw Redis. */
export async function run(args: string[]): Promise<void> {
  const o = options(args);
  if (o.help) {
    process.stdout.write(help);
    return;
  }
  const cleanup = new Cleanup();
  try {
    const prefix = `keel-bench:${randomBytes(4).toString('hex')}:`;
    const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1 });
    cleanup.add('close raw client', () => redis.quit().then(() => undefined));
    cleanup.add(`delete keys under ${prefix}`, () => deleteKeysUnder(redis, prefix).then(() => undefined));
    const dataDir = await mkdtemp(join(tmpdir(), 'keel-bench-online-'));
    cleanup.add('remove temp dir', () => rm(dataDir, { recursive: true, force: true }));
    const server = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
    say(`keel features-online benchmark — ${new Date().toISOString()}`);
    say(`command:  npm run bench -- features-online ${args.join(' ')}`.trimEnd());
    say(`machine:  ${machineLine()}; load average ${loadAverage()} at start`);
    say(`backends: Redis ${server} on the same machine; embedded = SQLite (better-sqlite3, WAL) file in a temp dir`);
    if (o.only !== 'write') await readBench(o, redis, prefix, dataDir, cleanup);
    if (o.only !== 'read') await writeBench(o, redis, prefix, cleanup);
  } finally {
    await cleanup.run();
  }
}
