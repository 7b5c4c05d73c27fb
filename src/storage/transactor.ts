import type { Kysely } from 'kysely';
import type { Transactor } from '../core/index.ts';
import type { Database } from './sql/schema.ts';

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

  transaction<T>(fn: (stores: S) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(this.make(trx)));
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
