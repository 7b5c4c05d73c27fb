import type { Kysely } from 'kysely';
import { AppError } from '../core/index.ts';
import {
  type Database,
  type DeploymentRevisionRow,
  type DeploymentRow,
  parseJsonColumn,
  uniqueInsert,
} from '../storage/index.ts';
import type { DeploymentStore } from './deployment-store.ts';
import type { Deployment, DeploymentRevision, DeploymentSpec } from './deployment-types.ts';

const toDeployment = (r: DeploymentRow): Deployment => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  revision: r.revision,
  spec: parseJsonColumn<DeploymentSpec>(r.spec) as DeploymentSpec,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  updatedBy: r.updated_by,
});

const toRevision = (r: DeploymentRevisionRow): DeploymentRevision => ({
  deploymentId: r.deployment_id,
  revision: r.revision,
  spec: parseJsonColumn<DeploymentSpec>(r.spec) as DeploymentSpec,
  version: r.version ?? null,
  reason: r.reason,
  at: Number(r.at),
  by: r.by,
});

const revisionRow = (r: DeploymentRevision): DeploymentRevisionRow => ({
  deployment_id: r.deploymentId,
  revision: r.revision,
  spec: JSON.stringify(r.spec),
  version: r.version,
  reason: r.reason,
  at: r.at,
  by: r.by,
});

export class SqlDeploymentStore implements DeploymentStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(d: Deployment, first: DeploymentRevision): Promise<void> {
    await uniqueInsert(
      this.db
        .insertInto('deployments')
        .values({
          id: d.id,
          project_id: d.projectId,
          name: d.name,
          revision: d.revision,
          spec: JSON.stringify(d.spec),
          created_at: d.createdAt,
          updated_at: d.updatedAt,
          updated_by: d.updatedBy,
        })
        .execute(),
      `deployment '${d.name}' already exists`,
    );
    await this.db.insertInto('deployment_revisions').values(revisionRow(first)).execute();
  }

  async get(projectId: string, name: string): Promise<Deployment | null> {
    const r = await this.db
      .selectFrom('deployments')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return r ? toDeployment(r) : null;
  }

  async list(projectId: string | null): Promise<Deployment[]> {
    let q = this.db.selectFrom('deployments').selectAll();
    if (projectId !== null) q = q.where('project_id', '=', projectId);
    return (await q.orderBy('project_id').orderBy('name').execute()).map(toDeployment);
  }

  async update(d: Deployment, expectedRevision: number, revision: DeploymentRevision): Promise<void> {
    const res = await this.db
      .updateTable('deployments')
      .set({ revision: d.revision, spec: JSON.stringify(d.spec), updated_at: d.updatedAt, updated_by: d.updatedBy })
      .where('id', '=', d.id)
      .where('revision', '=', expectedRevision)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) {
      throw new AppError('INVALID_STATE', `deployment '${d.name}' changed meanwhile; try again`);
    }
    await this.db.insertInto('deployment_revisions').values(revisionRow(revision)).execute();
  }

  async revisions(deploymentId: string): Promise<DeploymentRevision[]> {
    const rows = await this.db
      .selectFrom('deployment_revisions')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .orderBy('revision', 'desc')
      .execute();
    return rows.map(toRevision);
  }
}
