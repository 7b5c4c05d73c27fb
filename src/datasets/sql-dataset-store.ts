import type { Kysely } from 'kysely';
import { type Database, type DatasetRow, type DatasetVersionRow, parseJsonColumn, uniqueInsert } from '../storage/index.ts';
import type { ValidationReport } from './contract/index.ts';
import type { DatasetStore } from './dataset-stores.ts';
import type { Dataset, DatasetProfile, DatasetVersion, DatasetVersionSummary, Lineage, SourceSummary } from './dataset-types.ts';

const toDataset = (r: DatasetRow): Dataset => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

type SummaryRow = Omit<DatasetVersionRow, 'profile' | 'validation'>;
const summaryColumns = [
  'project_id',
  'id',
  'dataset_id',
  'digest',
  'size_bytes',
  'row_count',
  'columns',
  'status',
  'contract',
  'lineage',
  'source',
  'description',
  'created_at',
  'created_by',
] as const;

const toSummary = (r: SummaryRow): DatasetVersionSummary => ({
  id: r.id,
  projectId: r.project_id,
  datasetId: r.dataset_id,
  digest: r.digest,
  sizeBytes: r.size_bytes,
  rows: r.row_count,
  columns: parseJsonColumn(r.columns) ?? [],
  status: r.status as DatasetVersion['status'],
  contract: r.contract,
  lineage: parseJsonColumn<Lineage>(r.lineage) ?? { parents: [], step: null, runId: null },
  source: parseJsonColumn<SourceSummary>(r.source) as SourceSummary,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

const toVersion = (r: DatasetVersionRow): DatasetVersion => ({
  ...toSummary(r),
  profile: parseJsonColumn<DatasetProfile>(r.profile) ?? { rows: r.row_count, columns: [] },
  validation: parseJsonColumn<ValidationReport>(r.validation),
});

export class SqlDatasetStore implements DatasetStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createDataset(d: Dataset) {
    await uniqueInsert(
      this.db
        .insertInto('datasets')
        .values({
          id: d.id,
          project_id: d.projectId,
          name: d.name,
          description: d.description,
          created_at: d.createdAt,
          created_by: d.createdBy,
        })
        .execute(),
      `dataset '${d.name}' already exists`,
    );
  }

  async getDataset(id: string) {
    const r = await this.db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toDataset(r) : null;
  }

  async getDatasetByName(projectId: string, name: string) {
    const r = await this.db
      .selectFrom('datasets')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return r ? toDataset(r) : null;
  }

  async listDatasets(projectIds: string[] | '*') {
    let q = this.db.selectFrom('datasets').selectAll();
    if (projectIds !== '*') q = q.where('project_id', 'in', projectIds.length ? projectIds : ['']);
    return (await q.orderBy('name').orderBy('id').execute()).map(toDataset);
  }

  async createVersion(v: DatasetVersion) {
    await uniqueInsert(
      this.db
        .insertInto('dataset_versions')
        .values({
          project_id: v.projectId,
          id: v.id,
          dataset_id: v.datasetId,
          digest: v.digest,
          size_bytes: v.sizeBytes,
          row_count: v.rows,
          columns: JSON.stringify(v.columns),
          profile: JSON.stringify(v.profile),
          status: v.status,
          contract: v.contract,
          validation: v.validation === null ? null : JSON.stringify(v.validation),
          lineage: JSON.stringify(v.lineage),
          source: JSON.stringify(v.source),
          description: v.description,
          created_at: v.createdAt,
          created_by: v.createdBy,
        })
        .execute(),
      `dataset version ${v.id} already exists`,
    );
    const parents = [...new Set(v.lineage.parents)];
    if (parents.length > 0) {
      await this.db
        .insertInto('dataset_lineage')
        .values(parents.map((p) => ({ project_id: v.projectId, child_id: v.id, parent_id: p })))
        .execute();
    }
  }

  async getVersion(projectId: string, id: string) {
    const r = await this.db
      .selectFrom('dataset_versions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? toVersion(r) : null;
  }

  async findVersion(id: string) {
    const r = await this.db
      .selectFrom('dataset_versions')
      .selectAll()
      .where('id', '=', id)
      .orderBy('project_id')
      .limit(1)
      .executeTakeFirst();
    return r ? toVersion(r) : null;
  }

  async listVersions(datasetId: string) {
    const rows = await this.db
      .selectFrom('dataset_versions')
      .select(summaryColumns)
      .where('dataset_id', '=', datasetId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toSummary);
  }

  async listChildren(projectId: string, parentId: string) {
    const rows = await this.db
      .selectFrom('dataset_lineage')
      .select('child_id')
      .where('project_id', '=', projectId)
      .where('parent_id', '=', parentId)
      .orderBy('child_id')
      .execute();
    return rows.map((r) => r.child_id);
  }
}
