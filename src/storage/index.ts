export type { BlobInfo, BlobStore } from './blob/blob-store.ts';
export { digestPattern } from './blob/blob-store.ts';
export { FakeBlobStore } from './blob/fake-blob-store.ts';
export { FsBlobStore } from './blob/fs-blob-store.ts';
export { openSqlDatabase, type SqlDatabase, type SqlDialectName, sqlitePathFor } from './sql/create-database.ts';
export type * from './sql/schema.ts';
export { isUniqueViolation, parseJsonColumn } from './sql/sql-errors.ts';
export type { StoreFactory } from './transactor.ts';
export { MemoryTransactor, SqlTransactor } from './transactor.ts';
