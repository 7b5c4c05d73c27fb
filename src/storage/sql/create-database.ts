import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { AppError, type KeelConfig, type StorageConfig } from '../../core/index.ts';
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

function openPostgres(url: string, poolSize: number): SqlDatabase {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes, connectionTimeoutMillis: 5000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor may a checked-out one between queries (the pool's own listener covers only idle clients):
  // the query in flight fails on its own, and the broken client is discarded when released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    async ping() {
      try {
        const client = await pool.connect();
        try {
          await client.query('select 1');
          return true;
        } finally {
          client.release();
        }
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

export function sqlitePathFor(config: Pick<KeelConfig, 'dataDir' | 'storage'>): string {
  const storage = config.storage;
  if (storage.driver === 'sqlite' && storage.path) return storage.path === ':memory:' ? ':memory:' : resolve(storage.path);
  return join(resolve(config.dataDir), 'keel.db');
}

/** Opens the metadata database named by config and migrates it to the latest schema. */
export async function openSqlDatabase(config: Pick<KeelConfig, 'dataDir' | 'storage'>): Promise<SqlDatabase> {
  const storage: StorageConfig = config.storage;
  const handle = storage.driver === 'postgres' ? openPostgres(storage.url, storage.poolSize) : openSqlite(sqlitePathFor(config));
  try {
    await migrateToLatest(handle.db as unknown as Kysely<unknown>, handle.dialect);
  } catch (e) {
    await handle.close().catch(() => undefined);
    if (e instanceof AppError) throw e;
    throw new AppError('CONNECTION_FAILED', `cannot open ${storage.driver} database: ${(e as Error).message}`);
  }
  return handle;
}
