import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { AppError } from '../../core/index.ts';

export type SqlValue = DuckDBValue;
export type Row = Record<string, unknown>;

/**
 * The offline analytics engine: one in-process DuckDB database. Each call takes its own
 * connection, so concurrent queries run in parallel inside DuckDB rather than queueing.
 */
export interface AnalyticsEngine {
  /** Runs statements that return nothing of interest (DDL, COPY, INSERT). */
  run(sql: string, params?: SqlValue[] | Record<string, SqlValue>): Promise<void>;
  /** Rows as plain JS objects (BIGINT → number when safe, else bigint; TIMESTAMP → Date). */
  all<T extends Row = Row>(sql: string, params?: SqlValue[] | Record<string, SqlValue>): Promise<T[]>;
  /** Column-major result, for building batches without an object per value. */
  columns(sql: string, params?: SqlValue[] | Record<string, SqlValue>): Promise<{ names: string[]; columns: unknown[][] }>;
  /** Runs `fn` with one dedicated connection (for temp tables and transactions). */
  withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function toJs(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  return v;
}

/** DuckDB errors are the caller's bad SQL or data far more often than bugs: surface them as 400s. */
export function duckError(e: unknown, what: string): AppError {
  const message = (e as Error).message ?? String(e);
  return new AppError('BAD_REQUEST', `${what}: ${message.split('\n')[0]}`);
}

export async function createAnalyticsEngine(
  opts: {
    path?: string;
    threads?: number;
    memoryLimit?: string;
    /** Statements run once before first use, e.g. instance-wide `SET`s that sandbox file access. */
    init?: string[];
  } = {},
): Promise<AnalyticsEngine> {
  const config: Record<string, string> = {};
  if (opts.threads) config.threads = String(opts.threads);
  if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
  const instance = await DuckDBInstance.create(opts.path ?? ':memory:', config);
  if (opts.init?.length) {
    const first = await instance.connect();
    try {
      for (const statement of opts.init) await first.run(statement);
    } finally {
      first.closeSync();
    }
  }
  const idle: DuckDBConnection[] = [];
  const acquire = async () => idle.pop() ?? (await instance.connect());
  const release = (c: DuckDBConnection) => {
    if (idle.length < 8) idle.push(c);
    else c.closeSync();
  };
  const withConnection = async <T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> => {
    const conn = await acquire();
    try {
      return await fn(conn);
    } finally {
      release(conn);
    }
  };
  return {
    withConnection,
    run: (sql, params) =>
      withConnection(async (c) => {
        await c.run(sql, params);
      }),
    all: <T extends Row>(sql: string, params?: SqlValue[] | Record<string, SqlValue>) =>
      withConnection(async (c) => {
        const reader = await c.runAndReadAll(sql, params);
        return reader.getRowObjectsJS().map((r) => {
          for (const k of Object.keys(r)) (r as Row)[k] = toJs(r[k]);
          return r as T;
        });
      }),
    columns: (sql, params) =>
      withConnection(async (c) => {
        const reader = await c.runAndReadAll(sql, params);
        return { names: reader.columnNames(), columns: reader.getColumnsJS().map((col) => col.map(toJs)) };
      }),
    async close() {
      for (const c of idle.splice(0)) c.closeSync();
      instance.closeSync();
    },
  };
}
