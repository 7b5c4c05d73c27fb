import type { Kysely } from 'kysely';
import {
  type AliasMoveRow,
  type Database,
  type ModelApprovalRow,
  type ModelVersionRow,
  parseJsonColumn,
  type RegisteredModelRow,
  uniqueInsert,
} from '../storage/index.ts';
import type { Approval, PromotionPolicy, StoredPolicy } from './promotion-types.ts';
import type { ModelStore } from './registry-stores.ts';
import type { AliasMove, GateCheck, ModelAlias, ModelManifest, ModelVersion, RegisteredModel } from './registry-types.ts';

const toModel = (r: RegisteredModelRow): RegisteredModel => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

const toVersion = (r: ModelVersionRow): ModelVersion => ({
  id: r.id,
  modelId: r.model_id,
  version: r.version,
  source: r.source as ModelVersion['source'],
  runId: r.run_id,
  artifactDigest: r.artifact_digest,
  artifactSize: r.artifact_size,
  manifest: parseJsonColumn<ModelManifest>(r.manifest) as ModelManifest,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

const toMove = (r: AliasMoveRow): AliasMove => ({
  id: r.id,
  modelId: r.model_id,
  alias: r.alias,
  fromVersion: r.from_version,
  toVersion: r.to_version,
  actor: r.actor,
  reason: r.reason,
  at: r.at,
  checks: parseJsonColumn<GateCheck[]>(r.checks),
});

/** `*` in the key column: an approval for every protected alias (SQL keys cannot hold null). */
const anyAlias = '*';

const toApproval = (r: ModelApprovalRow): Approval => ({
  modelId: r.model_id,
  version: r.version,
  alias: r.alias === anyAlias ? null : r.alias,
  approver: r.approver,
  role: r.role,
  comment: r.comment,
  at: r.at,
});

export class SqlModelStore implements ModelStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createModel(m: RegisteredModel): Promise<void> {
    await uniqueInsert(
      this.db
        .insertInto('registered_models')
        .values({
          id: m.id,
          project_id: m.projectId,
          name: m.name,
          description: m.description,
          created_at: m.createdAt,
          created_by: m.createdBy,
        })
        .execute(),
      `model '${m.name}' already exists`,
    );
  }

  async getModel(id: string) {
    const r = await this.db.selectFrom('registered_models').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toModel(r) : null;
  }

  async getModelByName(projectId: string, name: string) {
    const r = await this.db
      .selectFrom('registered_models')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return r ? toModel(r) : null;
  }

  async listModels(projectIds: string[] | '*') {
    let q = this.db.selectFrom('registered_models').selectAll();
    if (projectIds !== '*') q = q.where('project_id', 'in', projectIds.length ? projectIds : ['']);
    return (await q.orderBy('name').orderBy('id').execute()).map(toModel);
  }

  async maxVersion(modelId: string) {
    const r = await this.db
      .selectFrom('model_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('model_id', '=', modelId)
      .executeTakeFirst();
    return Number(r?.v ?? 0);
  }

  async createVersion(v: ModelVersion) {
    await uniqueInsert(
      this.db
        .insertInto('model_versions')
        .values({
          id: v.id,
          model_id: v.modelId,
          version: v.version,
          source: v.source,
          run_id: v.runId,
          artifact_digest: v.artifactDigest,
          artifact_size: v.artifactSize,
          manifest: JSON.stringify(v.manifest),
          description: v.description,
          created_at: v.createdAt,
          created_by: v.createdBy,
        })
        .execute(),
      `version ${v.version} already exists`,
    );
  }

  async getVersion(modelId: string, version: number) {
    const r = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('version', '=', version)
      .executeTakeFirst();
    return r ? toVersion(r) : null;
  }

  async listVersions(modelId: string) {
    const rows = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_id', '=', modelId)
      .orderBy('version')
      .execute();
    return rows.map(toVersion);
  }

  async listAliases(modelId: string): Promise<ModelAlias[]> {
    return this.db
      .selectFrom('model_aliases')
      .select(['alias', 'version', 'updated_at as updatedAt'])
      .where('model_id', '=', modelId)
      .orderBy('alias')
      .execute();
  }

  async setAlias(modelId: string, alias: string, version: number | null, at: number) {
    if (version === null) {
      await this.db.deleteFrom('model_aliases').where('model_id', '=', modelId).where('alias', '=', alias).execute();
      return;
    }
    await this.db
      .insertInto('model_aliases')
      .values({ model_id: modelId, alias, version, updated_at: at })
      .onConflict((oc) =>
        oc.columns(['model_id', 'alias']).doUpdateSet({
          version: (eb) => eb.ref('excluded.version'),
          updated_at: (eb) => eb.ref('excluded.updated_at'),
        }),
      )
      .execute();
  }

  async appendAliasMove(m: AliasMove) {
    await this.db
      .insertInto('alias_moves')
      .values({
        id: m.id,
        model_id: m.modelId,
        alias: m.alias,
        from_version: m.fromVersion,
        to_version: m.toVersion,
        actor: m.actor,
        reason: m.reason,
        at: m.at,
        checks: m.checks === null ? null : JSON.stringify(m.checks),
      })
      .execute();
  }

  async listAliasMoves(modelId: string, alias?: string) {
    let q = this.db.selectFrom('alias_moves').selectAll().where('model_id', '=', modelId);
    if (alias !== undefined) q = q.where('alias', '=', alias);
    return (await q.orderBy('at').orderBy('alias').execute()).map(toMove);
  }

  async lastMoveAt(modelId: string, alias: string, at: number) {
    const r = await this.db
      .selectFrom('alias_moves')
      .selectAll()
      .where('model_id', '=', modelId)
      .where('alias', '=', alias)
      .where('at', '<=', at)
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? toMove(r) : null;
  }

  async getPolicy(modelId: string): Promise<StoredPolicy | null> {
    const r = await this.db.selectFrom('model_policies').selectAll().where('model_id', '=', modelId).executeTakeFirst();
    const policy = r ? parseJsonColumn<PromotionPolicy>(r.policy) : null;
    if (!r || !policy) return null;
    return { modelId: r.model_id, policy, source: r.source, updatedAt: r.updated_at, updatedBy: r.updated_by };
  }

  async putPolicy(p: StoredPolicy) {
    await this.db
      .insertInto('model_policies')
      .values({
        model_id: p.modelId,
        policy: JSON.stringify(p.policy),
        source: p.source,
        updated_at: p.updatedAt,
        updated_by: p.updatedBy,
      })
      .onConflict((oc) =>
        oc.column('model_id').doUpdateSet({
          policy: (eb) => eb.ref('excluded.policy'),
          source: (eb) => eb.ref('excluded.source'),
          updated_at: (eb) => eb.ref('excluded.updated_at'),
          updated_by: (eb) => eb.ref('excluded.updated_by'),
        }),
      )
      .execute();
  }

  async addApproval(a: Approval) {
    await uniqueInsert(
      this.db
        .insertInto('model_approvals')
        .values({
          model_id: a.modelId,
          version: a.version,
          alias: a.alias ?? anyAlias,
          approver: a.approver,
          role: a.role,
          comment: a.comment,
          at: a.at,
        })
        .execute(),
      `${a.approver} already approved version ${a.version}`,
    );
  }

  async listApprovals(modelId: string, version?: number) {
    let q = this.db.selectFrom('model_approvals').selectAll().where('model_id', '=', modelId);
    if (version !== undefined) q = q.where('version', '=', version);
    const rows = await q.orderBy('at').orderBy('version').orderBy('alias').orderBy('approver').execute();
    return rows.map(toApproval);
  }
}
