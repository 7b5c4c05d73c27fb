import type { Kysely } from 'kysely';
import { type Database, type FeatureObjectRow, parseJsonColumn, uniqueInsert } from '../storage/index.ts';
import type { ObjectKind } from './feature-definitions.ts';
import type { FeatureObject, FeatureRegistryStore, ViewState } from './feature-stores.ts';

const toObject = (r: FeatureObjectRow): FeatureObject => ({
  projectId: r.project_id,
  kind: r.kind as ObjectKind,
  name: r.name,
  version: r.version,
  spec: parseJsonColumn(r.spec),
  digest: r.digest,
  createdAt: r.created_at,
  createdBy: r.created_by,
  deletedAt: r.deleted_at,
});

export class SqlFeatureRegistryStore implements FeatureRegistryStore {
  constructor(private readonly db: Kysely<Database>) {}

  async listLatest(projectId: string): Promise<FeatureObject[]> {
    const rows = await this.db
      .selectFrom('feature_objects as o')
      .selectAll('o')
      .where('o.project_id', '=', projectId)
      .where(({ eb, selectFrom }) =>
        eb(
          'o.version',
          '=',
          selectFrom('feature_objects as n')
            .select((x) => x.fn.max('n.version').as('v'))
            .whereRef('n.project_id', '=', 'o.project_id')
            .whereRef('n.kind', '=', 'o.kind')
            .whereRef('n.name', '=', 'o.name'),
        ),
      )
      .orderBy('o.kind')
      .orderBy('o.name')
      .execute();
    return rows.map(toObject);
  }

  async putVersion(o: FeatureObject): Promise<void> {
    await uniqueInsert(
      this.db
        .insertInto('feature_objects')
        .values({
          project_id: o.projectId,
          kind: o.kind,
          name: o.name,
          version: o.version,
          spec: JSON.stringify(o.spec),
          digest: o.digest,
          created_at: o.createdAt,
          created_by: o.createdBy,
          deleted_at: o.deletedAt,
        })
        .execute(),
      `${o.kind} '${o.name}' version ${o.version} already exists`,
    );
  }

  async markDeleted(projectId: string, kind: ObjectKind, name: string, version: number, at: number): Promise<void> {
    await this.db
      .updateTable('feature_objects')
      .set({ deleted_at: at })
      .where('project_id', '=', projectId)
      .where('kind', '=', kind)
      .where('name', '=', name)
      .where('version', '=', version)
      .execute();
  }

  async getVersion(projectId: string, kind: ObjectKind, name: string, version: number): Promise<FeatureObject | null> {
    const r = await this.db
      .selectFrom('feature_objects')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('kind', '=', kind)
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    return r ? toObject(r) : null;
  }

  async getState(projectId: string, view: string): Promise<ViewState | null> {
    const r = await this.db
      .selectFrom('feature_view_state')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('view', '=', view)
      .executeTakeFirst();
    return r ? { view: r.view, watermark: r.watermark, materializedAt: r.materialized_at, rowsWritten: r.rows_written } : null;
  }

  async listStates(projectId: string): Promise<ViewState[]> {
    const rows = await this.db
      .selectFrom('feature_view_state')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('view')
      .execute();
    return rows.map((r) => ({
      view: r.view,
      watermark: r.watermark,
      materializedAt: r.materialized_at,
      rowsWritten: r.rows_written,
    }));
  }

  async putState(projectId: string, s: ViewState): Promise<void> {
    await this.db
      .insertInto('feature_view_state')
      .values({
        project_id: projectId,
        view: s.view,
        watermark: s.watermark,
        materialized_at: s.materializedAt,
        rows_written: s.rowsWritten,
      })
      .onConflict((oc) =>
        oc.columns(['project_id', 'view']).doUpdateSet({
          watermark: (eb) => eb.ref('excluded.watermark'),
          materialized_at: (eb) => eb.ref('excluded.materialized_at'),
          rows_written: (eb) => eb.ref('excluded.rows_written'),
        }),
      )
      .execute();
  }
}
