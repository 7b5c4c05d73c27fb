/**
 * Runs work atomically against a bundle of stores. SQL adapters map this onto one database
 * transaction; the in-memory fakes snapshot their state and restore it when `fn` throws.
 * Do not nest calls: the embedded SQLite driver has a single connection.
 */
export interface Transactor<S> {
  readonly stores: S;
  transaction<T>(fn: (stores: S) => Promise<T>): Promise<T>;
}
