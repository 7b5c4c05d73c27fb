import type { Dataset, DatasetVersion, DatasetVersionSummary, StoredContract } from './dataset-types.ts';

export interface DatasetStore {
  /** ALREADY_EXISTS when the project already has a dataset of that name. */
  createDataset(d: Dataset): Promise<void>;
  getDataset(id: string): Promise<Dataset | null>;
  getDatasetByName(projectId: string, name: string): Promise<Dataset | null>;
  /** Datasets of the given projects (`*` for all), by name then id. */
  listDatasets(projectIds: string[] | '*'): Promise<Dataset[]>;
  /** Inserts the version and its lineage edges; ALREADY_EXISTS when the project has that id. */
  createVersion(v: DatasetVersion): Promise<void>;
  getVersion(projectId: string, id: string): Promise<DatasetVersion | null>;
  /** The version with that id in any project (same id ⇒ same content), or null. */
  findVersion(id: string): Promise<DatasetVersion | null>;
  /** Versions of a dataset, newest first (created_at, then id descending). */
  listVersions(datasetId: string): Promise<DatasetVersionSummary[]>;
  /** Ids of versions in the project that list `parentId` as a parent, ascending. */
  listChildren(projectId: string, parentId: string): Promise<string[]>;
}

export interface ContractStore {
  /** ALREADY_EXISTS when (project, name, version) is taken (a concurrent apply). */
  putContract(c: StoredContract): Promise<void>;
  getContract(projectId: string, name: string, version: number): Promise<StoredContract | null>;
  latestContract(projectId: string, name: string): Promise<StoredContract | null>;
  /** The latest version of every contract in the project, by name. */
  listContracts(projectId: string): Promise<StoredContract[]>;
}
