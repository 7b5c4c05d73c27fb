import type { Kysely } from 'kysely';
import type { MigrationFactory } from './migration-types.ts';

/** Dataset versions (content-addressed), their lineage edges, and data contracts. */
export const datasets: MigrationFactory = ({ text }) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('datasets')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addUniqueConstraint('datasets_project_name', ['project_id', 'name'])
      .execute();
    // The id derives from the content digest, so it is unique per project, not globally: two
    // projects registering the same bytes each get their own row for the one shared blob.
    await db.schema
      .createTable('dataset_versions')
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('id', text, (c) => c.notNull())
      .addColumn('dataset_id', text, (c) => c.notNull().references('datasets.id'))
      .addColumn('digest', text, (c) => c.notNull())
      .addColumn('size_bytes', 'bigint', (c) => c.notNull())
      .addColumn('row_count', 'bigint', (c) => c.notNull())
      .addColumn('columns', text, (c) => c.notNull())
      .addColumn('profile', text, (c) => c.notNull())
      .addColumn('status', text, (c) => c.notNull())
      .addColumn('contract', text)
      .addColumn('validation', text)
      .addColumn('lineage', text, (c) => c.notNull())
      .addColumn('source', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addPrimaryKeyConstraint('dataset_versions_pk', ['project_id', 'id'])
      .execute();
    await db.schema
      .createIndex('dataset_versions_by_dataset')
      .on('dataset_versions')
      .columns(['dataset_id', 'created_at'])
      .execute();
    await db.schema.createIndex('dataset_versions_by_id').on('dataset_versions').columns(['id']).execute();
    await db.schema
      .createTable('dataset_lineage')
      .addColumn('project_id', text, (c) => c.notNull())
      .addColumn('child_id', text, (c) => c.notNull())
      .addColumn('parent_id', text, (c) => c.notNull())
      .addPrimaryKeyConstraint('dataset_lineage_pk', ['project_id', 'child_id', 'parent_id'])
      .execute();
    await db.schema.createIndex('dataset_lineage_by_parent').on('dataset_lineage').columns(['project_id', 'parent_id']).execute();
    await db.schema
      .createTable('data_contracts')
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('yaml', text, (c) => c.notNull())
      .addColumn('policy', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addPrimaryKeyConstraint('data_contracts_pk', ['project_id', 'name', 'version'])
      .execute();
  },
});
