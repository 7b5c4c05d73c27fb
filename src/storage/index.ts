export type { BlobInfo, BlobStore } from './blob/blob-store.ts';
export { digestPattern } from './blob/blob-store.ts';
export { FakeBlobStore } from './blob/fake-blob-store.ts';
export { FsBlobStore } from './blob/fs-blob-store.ts';
export type { DomainEvent, EventBus, EventHandler } from './bus/event-bus.ts';
export { MemoryEventBus } from './bus/memory-event-bus.ts';
export { createOnlineStore, onlineStorePathFor } from './kv/create-online-store.ts';
export { MemoryOnlineStore } from './kv/memory-online-store.ts';
export type { OnlineValue } from './kv/online-row-codec.ts';
export {
  entityKey,
  type OnlineReadRequest,
  type OnlineReadResult,
  type OnlineStore,
  type OnlineWriteBatch,
} from './kv/online-store.ts';
export { RedisOnlineStore, type RedisOnlineStoreOptions } from './kv/redis-online-store.ts';
export { SqliteOnlineStore } from './kv/sqlite-online-store.ts';
export { type AnalyticsEngine, createAnalyticsEngine, duckError, type Row, type SqlValue } from './offline/duckdb-engine.ts';
export { sqlIdent, sqlString } from './offline/duckdb-sql.ts';
export { isSqlNode, readSelect, rowGenerators, type SelectReads, type SqlNode } from './offline/select-reads.ts';
export { openSqlDatabase, type SqlDatabase, type SqlDialectName, sqlitePathFor } from './sql/create-database.ts';
export type * from './sql/schema.ts';
export { isUniqueViolation, parseJsonColumn, uniqueInsert } from './sql/sql-errors.ts';
export type { StoreFactory } from './transactor.ts';
export { MemoryTransactor, SqlTransactor } from './transactor.ts';
