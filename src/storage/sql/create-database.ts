import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, SqliteDialect } from 'kysely';
import pg from 'pg';
import { AppError, defaultQueryTimeoutMs, type StorageConfig } from '../../core/index.ts';
import { asUnavailable, statementTimeout } from './database-errors.ts';
import { migrateToLatest } from './migrations/index.ts';
import type { Database, SqlDialectName } from './schema.ts';

export type { SqlDialectName };

export interface SqlDatabase {
  db: Kysely<Database>;
  dialect: SqlDialectName;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// int8 (bigint) comes back from pg as a string by default; our bigints are epoch ms and sizes,
// all well inside 2^53, so numbers are exact and keep SQLite and Postgres rows identical.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

function openSqlite(path: string): SqlDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const conn = new SQLite(path);
  // WAL + NORMAL survives a killed process (the WAL is in the OS page cache); foreign keys on.
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  // MLflow's LIKE is case-sensitive (ILIKE is not), as in Postgres.
  conn.pragma('case_sensitive_like = ON');
  conn.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }) });
  return {
    db,
    dialect: 'sqlite',
    ping: async () => conn.open,
    close: () => db.destroy(),
  };
}

/**
 * A pg pool whose clients answer within `queryTimeoutMs` (0: no deadline). Null is for migrations:
 * no deadline, and the driver's own errors, whose cause start-up reports. A query that times out
 * leaves its connection waiting for a reply that may never come (a network split that drops
 * packets), and the next query would queue behind it: such a connection is discarded on release.
 * Transport failures become UNAVAILABLE, so callers see a 503 with a stable code, not a 500.
 */
function openPostgres(url: string, poolSize: number, queryTimeoutMs: number | null): SqlDatabase {
  // The server's statement timeout fires first and leaves the connection usable; the client's own
  // deadline, a second later, is for a server that does not answer at all (a network split).
  const deadline = queryTimeoutMs ? { query_timeout: queryTimeoutMs + 1_000, statement_timeout: queryTimeoutMs } : {};
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes, connectionTimeoutMillis: 5000, ...deadline });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor may a checked-out one between queries (the pool's own listener covers only idle clients):
  // the query in flight fails on its own, and the broken client is discarded when released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: queryTimeoutMs === null ? pool : deadlinePool(pool, queryTimeoutMs) }),
  });
  return {
    db,
    dialect: 'postgres',
    async ping() {
      try {
        const client = await pool.connect();
        let failure: Error | undefined;
        try {
          await client.query('select 1');
          return true;
        } catch (e) {
          failure = e as Error;
          return false;
        } finally {
          client.release(failure);
        }
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

/** Wraps each checked-out client once (Kysely keys its connection objects by client). */
function deadlinePool(pool: pg.Pool, queryTimeoutMs: number): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw asUnavailable(e, queryTimeoutMs) ?? e;
      }
      let w = wrapped.get(client);
      if (!w) {
        w = deadlineClient(client, queryTimeoutMs);
        wrapped.set(client, w);
      }
      return w;
    },
    end: () => pool.end(),
  };
}

function deadlineClient(client: pg.PoolClient, queryTimeoutMs: number): PostgresPoolClient {
  let broken: AppError | null = null;
  const query = async (sql: string, parameters: readonly unknown[]) => {
    // A query behind one that never got its reply would wait just as long: fail it at once.
    if (broken) throw broken;
    try {
      return await client.query(sql, parameters as unknown[]);
    } catch (e) {
      const unavailable = asUnavailable(e, queryTimeoutMs);
      if (!unavailable) throw e;
      // A server-side statement timeout leaves the connection usable; anything else does not.
      if ((e as { code?: unknown }).code !== statementTimeout) broken = unavailable;
      throw unavailable;
    }
  };
  return {
    query: query as unknown as PostgresPoolClient['query'],
    // A truthy argument makes the pool destroy the client instead of reusing it.
    release: () => client.release(broken ?? undefined),
  };
}

export function sqlitePathFor(config: SqlDatabaseConfig): string {
  const storage = config.storage;
  if (storage.driver === 'sqlite' && storage.path) return storage.path === ':memory:' ? ':memory:' : resolve(storage.path);
  return join(resolve(config.dataDir), 'keel.db');
}

type PostgresStorageConfig = Extract<StorageConfig, { driver: 'postgres' }>;

/** Storage as parsed from config, or as tests and benches write it, where an absent deadline means the default. */
export interface SqlDatabaseConfig {
  dataDir: string;
  storage:
    | Exclude<StorageConfig, PostgresStorageConfig>
    | (Omit<PostgresStorageConfig, 'queryTimeoutMs'> & { queryTimeoutMs?: number | undefined });
}

/** Opens the metadata database named by config and migrates it to the latest schema. */
export async function openSqlDatabase(config: SqlDatabaseConfig): Promise<SqlDatabase> {
  const storage = config.storage;
  if (storage.driver === 'sqlite') return migrated(openSqlite(sqlitePathFor(config)), storage.driver, false);
  // Migrations may wait for another server's migration lock or rewrite a large table: they run on
  // a connection of their own, without the query deadline meant for requests.
  await migrated(openPostgres(storage.url, 1, null), storage.driver, true);
  return openPostgres(storage.url, storage.poolSize, storage.queryTimeoutMs ?? defaultQueryTimeoutMs);
}

async function migrated(handle: SqlDatabase, driver: StorageConfig['driver'], close: boolean): Promise<SqlDatabase> {
  try {
    await migrateToLatest(handle.db as unknown as Kysely<unknown>, handle.dialect);
  } catch (e) {
    await handle.close().catch(() => undefined);
    if (e instanceof AppError) throw e;
    throw new AppError('CONNECTION_FAILED', `cannot open ${driver} database: ${(e as Error).message}`);
  }
  if (close) await handle.close();
  return handle;
}
