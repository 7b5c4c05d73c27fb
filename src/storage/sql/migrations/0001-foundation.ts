import type { Kysely } from 'kysely';
import type { MigrationFactory } from './migration-types.ts';

/** Projects, keys, audit, tracking and registry. */
export const foundation: MigrationFactory = ({ autoId, text }) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('projects')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('name', text, (c) => c.notNull().unique())
      .addColumn('description', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('api_keys')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('secret_hash', text, (c) => c.notNull())
      .addColumn('role', text, (c) => c.notNull())
      .addColumn('projects', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema
      .createTable('audit_events')
      .addColumn('seq', autoId)
      .addColumn('id', text, (c) => c.notNull().unique())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', text, (c) => c.notNull())
      .addColumn('action', text, (c) => c.notNull())
      .addColumn('resource_type', text, (c) => c.notNull())
      .addColumn('resource_id', text, (c) => c.notNull())
      .addColumn('project_id', text)
      .addColumn('before', text)
      .addColumn('after', text)
      .execute();
    await db.schema.createIndex('audit_by_actor').on('audit_events').columns(['actor', 'seq']).execute();
    await db.schema.createIndex('audit_by_resource').on('audit_events').columns(['resource_id', 'seq']).execute();
    await db.schema.createIndex('audit_by_time').on('audit_events').columns(['at']).execute();

    await db.schema
      .createTable('experiments')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addUniqueConstraint('experiments_project_name', ['project_id', 'name'])
      .execute();
    await db.schema
      .createTable('runs')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('experiment_id', text, (c) => c.notNull().references('experiments.id'))
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('status', text, (c) => c.notNull())
      .addColumn('start_time', 'bigint', (c) => c.notNull())
      .addColumn('end_time', 'bigint')
      .addColumn('created_by', text, (c) => c.notNull())
      .addColumn('code_version', text)
      .addColumn('parent_run_id', text)
      .execute();
    await db.schema.createIndex('runs_by_experiment').on('runs').columns(['experiment_id', 'start_time', 'id']).execute();
    await db.schema.createIndex('runs_by_project').on('runs').columns(['project_id', 'start_time']).execute();
    await db.schema
      .createTable('params')
      .addColumn('run_id', text, (c) => c.notNull().references('runs.id'))
      .addColumn('key', text, (c) => c.notNull())
      .addColumn('value', text, (c) => c.notNull())
      .addPrimaryKeyConstraint('params_pk', ['run_id', 'key'])
      .execute();
    await db.schema.createIndex('params_by_key_value').on('params').columns(['key', 'value', 'run_id']).execute();
    await db.schema
      .createTable('metrics')
      .addColumn('run_id', text, (c) => c.notNull().references('runs.id'))
      .addColumn('key', text, (c) => c.notNull())
      .addColumn('value', 'double precision', (c) => c.notNull())
      .addColumn('step', 'bigint', (c) => c.notNull())
      .addColumn('timestamp', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('metrics_history').on('metrics').columns(['run_id', 'key', 'step']).execute();
    await db.schema
      .createTable('latest_metrics')
      .addColumn('run_id', text, (c) => c.notNull().references('runs.id'))
      .addColumn('key', text, (c) => c.notNull())
      .addColumn('value', 'double precision', (c) => c.notNull())
      .addColumn('step', 'bigint', (c) => c.notNull())
      .addColumn('timestamp', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('latest_metrics_pk', ['run_id', 'key'])
      .execute();
    await db.schema.createIndex('latest_metrics_by_key_value').on('latest_metrics').columns(['key', 'value', 'run_id']).execute();
    await db.schema
      .createTable('run_tags')
      .addColumn('run_id', text, (c) => c.notNull().references('runs.id'))
      .addColumn('key', text, (c) => c.notNull())
      .addColumn('value', text, (c) => c.notNull())
      .addPrimaryKeyConstraint('run_tags_pk', ['run_id', 'key'])
      .execute();
    await db.schema.createIndex('run_tags_by_key_value').on('run_tags').columns(['key', 'value', 'run_id']).execute();
    await db.schema
      .createTable('run_inputs')
      .addColumn('run_id', text, (c) => c.notNull().references('runs.id'))
      .addColumn('digest', text, (c) => c.notNull())
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('context', text, (c) => c.notNull())
      .addPrimaryKeyConstraint('run_inputs_pk', ['run_id', 'digest'])
      .execute();
    await db.schema
      .createTable('artifacts')
      .addColumn('run_id', text, (c) => c.notNull().references('runs.id'))
      .addColumn('path', text, (c) => c.notNull())
      .addColumn('digest', text, (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('artifacts_pk', ['run_id', 'path'])
      .execute();

    await db.schema
      .createTable('registered_models')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('project_id', text, (c) => c.notNull().references('projects.id'))
      .addColumn('name', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addUniqueConstraint('models_project_name', ['project_id', 'name'])
      .execute();
    await db.schema
      .createTable('model_versions')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('model_id', text, (c) => c.notNull().references('registered_models.id'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('source', text, (c) => c.notNull())
      .addColumn('run_id', text)
      .addColumn('artifact_digest', text, (c) => c.notNull())
      .addColumn('artifact_size', 'bigint', (c) => c.notNull())
      .addColumn('manifest', text, (c) => c.notNull())
      .addColumn('description', text, (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', text, (c) => c.notNull())
      .addUniqueConstraint('model_versions_number', ['model_id', 'version'])
      .execute();
    await db.schema
      .createTable('model_aliases')
      .addColumn('model_id', text, (c) => c.notNull().references('registered_models.id'))
      .addColumn('alias', text, (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_aliases_pk', ['model_id', 'alias'])
      .execute();
    await db.schema
      .createTable('alias_moves')
      .addColumn('id', text, (c) => c.primaryKey())
      .addColumn('model_id', text, (c) => c.notNull().references('registered_models.id'))
      .addColumn('alias', text, (c) => c.notNull())
      .addColumn('from_version', 'integer')
      .addColumn('to_version', 'integer')
      .addColumn('actor', text, (c) => c.notNull())
      .addColumn('reason', text, (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('checks', text)
      .execute();
    await db.schema.createIndex('alias_moves_by_alias').on('alias_moves').columns(['model_id', 'alias', 'at']).execute();
  },
});
