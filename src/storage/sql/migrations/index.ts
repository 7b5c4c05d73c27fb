import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { AppError } from '../../../core/index.ts';
import type { SqlDialectName } from '../schema.ts';
import { foundation } from './0001-foundation.ts';
import { datasets } from './0002-datasets.ts';
import { features } from './0003-features.ts';
import { pipelines } from './0004-pipelines.ts';
import { promotionGates } from './0005-promotion-gates.ts';
import { deployments } from './0006-deployments.ts';
import { deploymentRevisionVersion } from './0007-deployment-revision-version.ts';
import type { DialectTypes, MigrationFactory } from './migration-types.ts';

/**
 * The one migration set, in order. Add a migration as a new file and a new entry here; never
 * edit one that has shipped.
 */
const migrationList: [string, MigrationFactory][] = [
  ['0001_foundation', foundation],
  ['0002_datasets', datasets],
  ['0003_features', features],
  ['0004_pipelines', pipelines],
  ['0005_promotion_gates', promotionGates],
  ['0006_deployments', deployments],
  ['0007_deployment_revision_version', deploymentRevisionVersion],
];

function typesFor(dialect: SqlDialectName): DialectTypes {
  return {
    dialect,
    autoId: dialect === 'postgres' ? sql`bigserial primary key` : sql`integer primary key autoincrement`,
    text: dialect === 'postgres' ? sql`text collate "C"` : sql`text`,
  };
}

class ListProvider implements MigrationProvider {
  constructor(private readonly dialect: SqlDialectName) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const types = typesFor(this.dialect);
    return Object.fromEntries(migrationList.map(([name, make]) => [name, make(types)]));
  }
}

/** Brings the schema up to date; safe to call on every start. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void> {
  const migrator = new Migrator({ db, provider: new ListProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new AppError('INTERNAL', `database migration ${failed ?? ''} failed: ${(error as Error).message}`);
  }
}

export type { DialectTypes, MigrationFactory };
