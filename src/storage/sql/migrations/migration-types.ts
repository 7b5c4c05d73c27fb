import type { Migration, RawBuilder } from 'kysely';
import type { SqlDialectName } from '../schema.ts';

/** Column types that differ by dialect, decided once so every migration agrees. */
export interface DialectTypes {
  dialect: SqlDialectName;
  /** Auto-increment primary key. */
  autoId: RawBuilder<unknown>;
  /**
   * Text that compares bytewise on both backends. SQLite does by default; Postgres would use the
   * database's collation (often a linguistic en_US), and then lists, search order and keyset
   * cursors would differ between backends. Use it for every text column.
   */
  text: RawBuilder<unknown>;
}

export type MigrationFactory = (types: DialectTypes) => Migration;
