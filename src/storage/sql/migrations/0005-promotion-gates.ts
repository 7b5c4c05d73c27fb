import type { Kysely } from 'kysely';
import type { MigrationFactory } from './migration-types.ts';

/** Promotion policies (one per model) and approvals of versions for protected aliases. */
export const promotionGates: MigrationFactory = ({ text }) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('model_policies')
      .addColumn('model_id', text, (c) => c.primaryKey().references('registered_models.id'))
      .addColumn('policy', text, (c) => c.notNull())
      .addColumn('source', text, (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', text, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('model_approvals')
      .addColumn('model_id', text, (c) => c.notNull().references('registered_models.id'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('alias', text, (c) => c.notNull())
      .addColumn('approver', text, (c) => c.notNull())
      .addColumn('role', text, (c) => c.notNull())
      .addColumn('comment', text, (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_approvals_pk', ['model_id', 'version', 'alias', 'approver'])
      .execute();
  },
});
