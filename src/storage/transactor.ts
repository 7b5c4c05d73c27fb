import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, PostgresAdapter } from 'kysely';
import type { Transactor } from '../core/index.ts';
import type { Database } from './sql/schema.ts';

/** Postgres aborts one side of a conflict with these; the loser is simply run again. */
const retryableCodes = new Set(['40001', '40P01']);
const maxAttempts = 10;

/** Builds a store bundle over a database handle or an open transaction. */
export type StoreFactory<S> = (db: Kysely<Database>) => S;

export class SqlTransactor<S> implements Transactor<S> {
  readonly stores: S;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly make: StoreFactory<S>,
  ) {
    this.stores = make(db);
  }

  /**
   * Services read, check and write inside one transaction (a run's status, a param's value, the
   * next version number). SQLite runs transactions one at a time; Postgres must run them
   * serializable for those checks to hold under concurrency, and retry the ones it aborts.
   */
  async transaction<T>(fn: (stores: S) => Promise<T>): Promise<T> {
    if (!(this.db.getExecutor().adapter instanceof PostgresAdapter)) {
      return this.db.transaction().execute((trx) => fn(this.make(trx)));
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db
          .transaction()
          .setIsolationLevel('serializable')
          .execute((trx) => fn(this.make(trx)));
      } catch (e) {
        const code = (e as { code?: unknown } | null)?.code;
        if (attempt >= maxAttempts || typeof code !== 'string' || !retryableCodes.has(code)) throw e;
        // Jitter keeps the same contenders from colliding again in lockstep.
        await sleep(Math.random() * 5 * attempt);
      }
    }
  }
}

/**
 * Transactions for in-memory fakes: one at a time, and on failure the shared state is put back
 * as it was, so fakes honour the same all-or-nothing contract as SQL.
 */
export class MemoryTransactor<S, State extends object> implements Transactor<S> {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(
    readonly stores: S,
    private readonly state: State,
  ) {}

  transaction<T>(fn: (stores: S) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      const snapshot = structuredClone(this.state);
      try {
        return await fn(this.stores);
      } catch (e) {
        for (const key of Object.keys(this.state)) delete (this.state as Record<string, unknown>)[key];
        Object.assign(this.state, snapshot);
        throw e;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
