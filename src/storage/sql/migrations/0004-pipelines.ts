import type { Kysely } from 'kysely';
import type { MigrationFactory } from './migration-types.ts';

/** Versioned pipeline definitions, runs with their steps, and the step cache. */
export const pipelines: MigrationFactory = ({ text }) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('pipeline_definitions')
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('spec', text, (c) => c.notNull())
      .addColumn('digest', text, (c) => c.notNull())
      .addColumn('base_dir', text)
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addPrimaryKeyConstraint('pipeline_definitions_pk', ['project_id', 'name', 'version'])
      .execute();
    await db.schema
      .createTable('pipeline_runs')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('pipeline', text, (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('status', text, (c) => c.notNull())
      .addColumn('params', text, (c) => c.notNull())
      .addColumn('trigger', text, (c) => c.notNull())
      .addColumn('tracking_run_id', text)
      .addColumn('error', text)
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('pipeline_runs_by_pipeline')
      .on('pipeline_runs')
      .columns(['project_id', 'pipeline', 'created_at'])
      .execute();
    await db.schema.createIndex('pipeline_runs_by_status').on('pipeline_runs').columns(['status']).execute();
    await db.schema
      .createTable('pipeline_steps')
      .addColumn('run_id', text, (c) => c.notNull().references('pipeline_runs.id'))
      .addColumn('step', text, (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('status', text, (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('cache_key', text)
      .addColumn('explain', text)
      .addColumn('outputs', text)
      .addColumn('tracking_run_id', text)
      .addColumn('error', text)
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addPrimaryKeyConstraint('pipeline_steps_pk', ['run_id', 'step'])
      .execute();
    await db.schema
      .createTable('pipeline_cache')
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('cache_key', text, (c) => c.notNull())
      .addColumn('pipeline', text, (c) => c.notNull())
      .addColumn('step', text, (c) => c.notNull())
      .addColumn('parts', text, (c) => c.notNull())
      .addColumn('outputs', text, (c) => c.notNull())
      .addColumn('run_id', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('pipeline_cache_pk', ['project_id', 'cache_key'])
      .execute();
    await db.schema
      .createIndex('pipeline_cache_by_step')
      .on('pipeline_cache')
      .columns(['project_id', 'pipeline', 'step', 'created_at'])
      .execute();
  },
});
