import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Transactor } from '../../src/core/index.ts';
import { testServiceEnv } from '../../src/core/index.ts';
import { openSqlDatabase, type SqlDatabase } from '../../src/storage/index.ts';
import { memoryTransactor, type Stores, sqlTransactor } from '../../src/stores.ts';

export type BackendName = 'memory' | 'sqlite' | 'postgres';
export const backendNames: readonly BackendName[] = ['memory', 'sqlite', 'postgres'];

/** One metadata backend, freshly created for a suite. */
export interface Backend {
  name: BackendName;
  tx: Transactor<Stores>;
  stores: Stores;
  /** The SQL handle, for SQL backends only. */
  sql: SqlDatabase | null;
}

interface OpenBackend extends Backend {
  close(): Promise<void>;
}

const env = testServiceEnv();

async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: env.postgresUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Null when Postgres answers, otherwise why not. Probed once per test file, at collection. */
async function probePostgres(): Promise<string | null> {
  try {
    await withAdminClient((c) => c.query('select 1'));
    return null;
  } catch (e) {
    return `Postgres at ${redact(env.postgresUrl)} is unreachable (${(e as Error).message})`;
  }
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

let probe: Promise<string | null> | undefined;
const postgresProblem = () => {
  probe ??= probePostgres();
  return probe;
};

/**
 * Creates `keel_test_<random>`. Production databases usually sort text linguistically
 * (en_US), not bytewise; an ICU en-US database makes the suite see what they would see. Servers
 * older than 15 or built without ICU get the server default instead.
 */
async function createPostgresDatabase(name: string): Promise<void> {
  await withAdminClient(async (c) => {
    try {
      await c.query(`create database ${name} template template0 locale_provider icu icu_locale 'en-US' encoding 'UTF8'`);
    } catch {
      await c.query(`create database ${name}`);
    }
  });
}

async function openPostgres(): Promise<OpenBackend> {
  const name = `keel_test_${randomBytes(6).toString('hex')}`;
  await createPostgresDatabase(name);
  const url = new URL(env.postgresUrl);
  url.pathname = `/${name}`;
  try {
    const db = await openSqlDatabase({ dataDir: tmpdir(), storage: { driver: 'postgres', url: url.toString(), poolSize: 4 } });
    const tx = sqlTransactor(db.db);
    return {
      name: 'postgres',
      tx,
      stores: tx.stores,
      sql: db,
      async close() {
        await db.close();
        await dropPostgresDatabase(name);
      },
    };
  } catch (e) {
    await dropPostgresDatabase(name);
    throw e;
  }
}

const dropPostgresDatabase = (name: string) =>
  withAdminClient((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined);

async function openSqlite(): Promise<OpenBackend> {
  const db = await openSqlDatabase({ dataDir: join(tmpdir(), 'keel-unused'), storage: { driver: 'sqlite', path: ':memory:' } });
  const tx = sqlTransactor(db.db);
  return { name: 'sqlite', tx, stores: tx.stores, sql: db, close: () => db.close() };
}

function openMemory(): OpenBackend {
  const tx = memoryTransactor();
  return { name: 'memory', tx, stores: tx.stores, sql: null, close: async () => undefined };
}

/** Opens a backend outside of a suite (the search suite builds all three side by side). */
export async function openBackend(name: BackendName): Promise<Backend & { close(): Promise<void> }> {
  if (name === 'memory') return openMemory();
  if (name === 'sqlite') return openSqlite();
  const problem = await postgresProblem();
  if (problem) {
    const why = env.ci ? 'CI=true requires the Postgres contract suites to run' : 'start Postgres or set KEEL_TEST_POSTGRES_URL';
    throw new Error(`${problem}; ${why}`);
  }
  return openPostgres();
}

/**
 * Whether the Postgres suites run here: null to run them, or the reason they are skipped.
 * On CI an unreachable Postgres is not a skip: suites run and fail in beforeAll.
 */
export async function postgresSkipReason(): Promise<string | null> {
  const problem = await postgresProblem();
  if (!problem || env.ci) return null;
  return `${problem}; skipping Postgres contract suites (set KEEL_TEST_POSTGRES_URL, or CI=true to make this fail)`;
}

const skipReason = await postgresSkipReason();
if (skipReason) console.warn(skipReason);

/**
 * One suite, many adapters: `body` is declared once per backend, each inside its own describe
 * with a fresh database that is dropped afterwards.
 */
export function describeEachBackend(title: string, body: (getBackend: () => Backend) => void): void {
  for (const name of backendNames) {
    const skip = name === 'postgres' && skipReason !== null;
    describe.skipIf(skip)(`${title} [${name}]`, () => {
      let backend: OpenBackend | undefined;
      beforeAll(async () => {
        backend = await openBackend(name);
      });
      afterAll(async () => {
        await backend?.close();
      });
      body(() => {
        if (!backend) throw new Error(`backend ${name} did not open`);
        return backend;
      });
    });
  }
}

/** A fresh Postgres database for a test that runs a whole server on it; `drop` removes it. */
export async function createTestPostgresDatabase(): Promise<{ url: string; port: number; drop(): Promise<void> }> {
  const name = `keel_test_${randomBytes(6).toString('hex')}`;
  await createPostgresDatabase(name);
  const url = new URL(env.postgresUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), port: Number(url.port || 5432), drop: () => dropPostgresDatabase(name) };
}
