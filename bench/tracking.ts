import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { testServiceEnv } from '../src/core/index.ts';
import { openSqlDatabase, type SqlDatabase } from '../src/storage/index.ts';
import { SqlRunStore } from '../src/tracking/index.ts';
import { Cleanup } from './lib/cleanup.ts';
import { BenchHttpClient } from './lib/http-client.ts';
import { startKeelProcess } from './lib/keel-process.ts';
import { codeVersion, loadAverage, machineLine } from './lib/machine.ts';
import { createBenchDatabase } from './lib/postgres-database.ts';
import { UsageError } from './lib/usage-error.ts';
import { benchLogBatch } from './tracking/log-batch-bench.ts';
import { logTable, searchTable, singleTable } from './tracking/report.ts';
import { benchSearchKind, type SearchResult } from './tracking/search-bench.ts';
import { seedRuns } from './tracking/seed.ts';
import { checkSeedMatchesApi } from './tracking/seed-check.ts';
import { searchKinds } from './tracking/workload.ts';

const help = `npm run bench -- tracking [flags]

  --runs <n>          runs to seed (default 25000)
  --metrics <n>       metrics per run (default 20, at least 8)
  --params <n>        params per run (default 20, at least 6)
  --clients <n>       concurrent search clients (default 20)
  --requests <n>      timed searches per query kind (default 2000)
  --warmup <n>        untimed searches per kind before timing (default 200)
  --single <n>        searches per kind timed one at a time, for single-user latency (default 200)
  --log-batches <n>   timed log-batch requests (default 200)
  --points <n>        metric points per log-batch (default 1000, the API maximum)
  --postgres          use Postgres at KEEL_TEST_POSTGRES_URL (a keel_bench_* database, dropped after)
  --pool <n>          Postgres pool size, for the server and the baseline alike (default: --clients)
  --quick             small smoke run: 2000 runs, 200 searches per kind (40 single), 30 log-batches
`;

function options(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      runs: { type: 'string' },
      metrics: { type: 'string' },
      params: { type: 'string' },
      clients: { type: 'string' },
      requests: { type: 'string' },
      single: { type: 'string' },
      warmup: { type: 'string' },
      'log-batches': { type: 'string' },
      points: { type: 'string' },
      pool: { type: 'string' },
      postgres: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const int = (name: keyof typeof values, fallback: number, min = 1) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
    return n;
  };
  const q = values.quick;
  const clients = int('clients', 20);
  const o = {
    help: values.help,
    postgres: values.postgres,
    runs: int('runs', q ? 2000 : 25_000),
    metrics: int('metrics', 20, 8),
    params: int('params', 20, 6),
    clients,
    requests: int('requests', q ? 200 : 2000),
    single: int('single', q ? 40 : 200),
    warmup: int('warmup', q ? 40 : 200, 0),
    logBatches: int('log-batches', q ? 30 : 200),
    logWarmup: q ? 5 : 10,
    points: int('points', 1000),
    pool: int('pool', clients),
  };
  // Each log-batch, Keel's and the baseline's, goes to a run of its own.
  if (o.runs < 2 * (o.logBatches + o.logWarmup)) {
    throw new UsageError(`--runs must be at least ${2 * (o.logBatches + o.logWarmup)} for ${o.logBatches} log-batches`);
  }
  if (o.points > 1000) throw new UsageError('--points is at most 1000, the API limit for one log-batch');
  return o;
}

type Options = ReturnType<typeof options>;

async function backendVersion(db: SqlDatabase): Promise<string> {
  const q = db.dialect === 'sqlite' ? sql<{ v: string }>`select sqlite_version() as v` : sql<{ v: string }>`show server_version`;
  const row = (await q.execute(db.db)).rows[0] as Record<string, string> | undefined;
  return `${db.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${Object.values(row ?? {})[0] ?? '?'}`;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function bench(o: Options, args: string[], cleanup: Cleanup): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keel-bench-'));
  cleanup.add('remove temp dir', () => rm(dataDir, { recursive: true, force: true }));
  const postgresUrl = o.postgres ? await createBenchDatabase(testServiceEnv().postgresUrl, cleanup) : undefined;
  const keel = await startKeelProcess({ dataDir, ...(postgresUrl ? { postgresUrl, poolSize: o.pool } : {}) }, cleanup);
  // The baseline's own connection, opened by the same code the server uses (same pragmas, same pool).
  const direct = await openSqlDatabase({
    dataDir,
    storage: postgresUrl ? { driver: 'postgres', url: postgresUrl, poolSize: o.pool } : { driver: 'sqlite' },
  });
  cleanup.add('close baseline connection', () => direct.close());
  const client = new BenchHttpClient(keel.url, keel.adminKey, o.clients);
  cleanup.add('close http client', () => client.close());

  say(`keel tracking benchmark — ${new Date().toISOString()}`);
  say(`command:  npm run bench -- tracking ${args.join(' ')}`.trimEnd());
  say(`machine:  ${machineLine()}; load average ${loadAverage()} at start`);
  say(`code:     ${codeVersion()}`);
  say(`backend:  ${await backendVersion(direct)}${o.postgres ? ` (pool ${o.pool} for the server and the baseline)` : ''}`);
  say(`server:   keel serve as a child process (pid ${keel.pid}) at ${keel.url}`);
  say(`workload: ${o.runs} runs × ${o.metrics} metrics, ${o.params} params, 3 tags; ${o.clients} search clients`);

  const experiments = [];
  for (const name of ['bench-a', 'bench-b']) {
    const body = await client.expect('POST', '/api/v1/experiments', JSON.stringify({ name }), 201);
    experiments.push(JSON.parse(body.toString()) as { id: string; name: string });
  }
  const project = await direct.db.selectFrom('projects').select('id').where('name', '=', 'default').executeTakeFirstOrThrow();
  const key = await direct.db.selectFrom('api_keys').select('id').where('name', '=', 'bootstrap-admin').executeTakeFirstOrThrow();

  say('\nseeding straight into the database (batched inserts; the same rows the API writes, checked below)');
  const seedStart = performance.now();
  const runIds = await seedRuns(
    direct.db,
    direct.dialect,
    { ...o, projectId: project.id, actorId: key.id, experiments },
    (done) => {
      const elapsed = (performance.now() - seedStart) / 1000;
      process.stderr.write(
        `\r  ${done.toLocaleString('en-US')} / ${o.runs.toLocaleString('en-US')} runs, ${elapsed.toFixed(0)} s`,
      );
    },
  );
  process.stderr.write('\n');
  // Steady state: SQLite's WAL folded into the main file; Postgres vacuumed and analysed as autovacuum would have.
  if (direct.dialect === 'sqlite') await sql`pragma wal_checkpoint(TRUNCATE)`.execute(direct.db);
  else await sql`vacuum analyze`.execute(direct.db);
  const seedSec = (performance.now() - seedStart) / 1000;
  say(`  seeded ${o.runs} runs in ${seedSec.toFixed(1)} s (${Math.round(o.runs / seedSec)} runs/s)`);
  await checkSeedMatchesApi(direct.db, client, runIds[0] as string, o);
  say('  seed check: a run written through the HTTP API has the same rows in every table as a seeded run');

  const store = new SqlRunStore(direct.db);
  const searchOpts = {
    experimentIds: experiments.map((e) => e.id),
    clients: o.clients,
    requests: o.requests,
    warmup: o.warmup,
    // Rounds of at least ten requests per client, so the ramp-up and drain at each turn stay small.
    rounds: Math.max(1, Math.min(10, Math.floor(o.requests / (o.clients * 10)))),
    singleRequests: o.single,
  };
  say(
    `\nsearch: ${o.requests} timed requests per kind (after ${o.warmup} warm-up) in ${searchOpts.rounds} alternating rounds, ${o.clients} concurrent clients, max 100 results`,
  );
  say(
    "  Keel = POST /api/v1/runs/search over HTTP keep-alive; direct = SqlRunStore.search() on the bench process's own connection",
  );
  const results: SearchResult[] = [];
  for (const kind of searchKinds) {
    const example = kind.body(0, ['…']);
    say(
      `  ${kind.name}: ${example.filter ?? 'no filter'}; order by ${example.orderBy?.join(', ') ?? 'start_time DESC (default)'}`,
    );
    results.push(await benchSearchKind(kind, client, store, searchOpts));
  }
  say(searchTable(results));
  say(`\nthe same searches one at a time (${o.single} per kind and side): the latency a lone user sees`);
  say(singleTable(results));
  say(`  load average ${loadAverage()} after search`);

  say(`\nlog-batch: ${o.logBatches} timed requests of ${o.points} metric points (after ${o.logWarmup} warm-up), one at a time`);
  say("  Keel = POST /api/v1/runs/:id/log; direct = SqlRunStore.logMetrics() in one transaction on the bench's connection");
  const log = await benchLogBatch(client, direct.db, {
    runIds,
    batches: o.logBatches,
    warmup: o.logWarmup,
    pointsPerBatch: o.points,
    metricKeys: o.metrics,
  });
  say(logTable(o.points, log.keel, log.direct));
  say(`  load average ${loadAverage()} at the end`);
}

/** `npm run bench -- tracking`: tracking search and log-batch latency against the database itself. */
export async function run(args: string[]): Promise<void> {
  const o = options(args);
  if (o.help) {
    process.stdout.write(help);
    return;
  }
  const cleanup = new Cleanup();
  try {
    await bench(o, args, cleanup);
  } finally {
    await cleanup.run();
  }
}
