import type { Kysely } from 'kysely';
import type { MigrationFactory } from './migration-types.ts';

/** Versioned feature definitions and per-view materialization state. */
export const features: MigrationFactory = ({ text }) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('feature_objects')
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('kind', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('spec', text, (c) => c.notNull())
      .addColumn('digest', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .addPrimaryKeyConstraint('feature_objects_pk', ['project_id', 'kind', 'name', 'version'])
      .execute();
    await db.schema
      .createTable('feature_view_state')
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('view', text, (c) => c.notNull())
      .addColumn('watermark', 'bigint')
      .addColumn('materialized_at', 'bigint')
      .addColumn('rows_written', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('feature_view_state_pk', ['project_id', 'view'])
      .execute();
  },
});
