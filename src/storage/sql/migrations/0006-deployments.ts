import type { Kysely } from 'kysely';
import type { MigrationFactory } from './migration-types.ts';

/** Deployments (named serving endpoints) and every revision of where they pointed. */
export const deployments: MigrationFactory = ({ text }) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('deployments')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('spec', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', text, (c) => c.notNull())
      .addUniqueConstraint('deployments_name_uq', ['project_id', 'name'])
      .execute();
    await db.schema
      .createTable('deployment_revisions')
      .addColumn('deployment_id', text, (c) => c.notNull().references('deployments.id'))
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('spec', text, (c) => c.notNull())
      .addColumn('reason', text, (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('by', text, (c) => c.notNull())
      .addPrimaryKeyConstraint('deployment_revisions_pk', ['deployment_id', 'revision'])
      .execute();
  },
});
