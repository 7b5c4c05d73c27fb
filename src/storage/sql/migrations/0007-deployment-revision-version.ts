import type { Kysely } from 'kysely';
import type { MigrationFactory } from './migration-types.ts';

/**
 * The model version each deployment revision resolved to when written: an alias-following
 * revision serves whatever the alias points at later, so rollback needs what it served then.
 * Nullable: revisions written before this migration did not record it.
 */
export const deploymentRevisionVersion: MigrationFactory = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployment_revisions').addColumn('version', 'integer').execute();
  },
});
