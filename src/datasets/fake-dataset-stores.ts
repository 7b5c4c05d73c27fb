import { AppError } from '../core/index.ts';
import type { ContractStore, DatasetStore } from './dataset-stores.ts';
import type { Dataset, DatasetVersion, StoredContract } from './dataset-types.ts';

export interface DatasetMemoryState {
  datasets: Map<string, Dataset>;
  /** Keyed by `<projectId>/<versionId>`. */
  versions: Map<string, DatasetVersion>;
  lineage: { projectId: string; childId: string; parentId: string }[];
  contracts: StoredContract[];
}

export const newDatasetMemoryState = (): DatasetMemoryState => ({
  datasets: new Map(),
  versions: new Map(),
  lineage: [],
  contracts: [],
});

// Bytewise, like the SQL backends' collation.
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const clone = <T>(v: T): T => structuredClone(v);

export class FakeDatasetStore implements DatasetStore {
  constructor(private readonly h: { datasets: DatasetMemoryState }) {}
  private get s() {
    return this.h.datasets;
  }
  async createDataset(d: Dataset) {
    if ([...this.s.datasets.values()].some((x) => x.projectId === d.projectId && x.name === d.name)) {
      throw new AppError('ALREADY_EXISTS', `dataset '${d.name}' already exists`);
    }
    this.s.datasets.set(d.id, clone(d));
  }
  async getDataset(id: string) {
    const d = this.s.datasets.get(id);
    return d ? clone(d) : null;
  }
  async getDatasetByName(projectId: string, name: string) {
    const d = [...this.s.datasets.values()].find((x) => x.projectId === projectId && x.name === name);
    return d ? clone(d) : null;
  }
  async listDatasets(projectIds: string[] | '*') {
    return [...this.s.datasets.values()]
      .filter((d) => projectIds === '*' || projectIds.includes(d.projectId))
      .sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id))
      .map(clone);
  }
  async createVersion(v: DatasetVersion) {
    const key = `${v.projectId}/${v.id}`;
    if (this.s.versions.has(key)) throw new AppError('ALREADY_EXISTS', `dataset version ${v.id} already exists`);
    this.s.versions.set(key, clone(v));
    for (const parentId of new Set(v.lineage.parents)) this.s.lineage.push({ projectId: v.projectId, childId: v.id, parentId });
  }
  async getVersion(projectId: string, id: string) {
    const v = this.s.versions.get(`${projectId}/${id}`);
    return v ? clone(v) : null;
  }
  async findVersion(id: string) {
    const v = [...this.s.versions.values()].filter((x) => x.id === id).sort((a, b) => cmp(a.projectId, b.projectId))[0];
    return v ? clone(v) : null;
  }
  async listVersions(datasetId: string) {
    return [...this.s.versions.values()]
      .filter((v) => v.datasetId === datasetId)
      .sort((a, b) => b.createdAt - a.createdAt || cmp(b.id, a.id))
      .map(({ profile: _p, validation: _v, ...summary }) => clone(summary));
  }
  async listChildren(projectId: string, parentId: string) {
    return this.s.lineage
      .filter((e) => e.projectId === projectId && e.parentId === parentId)
      .map((e) => e.childId)
      .sort(cmp);
  }
}

export class FakeContractStore implements ContractStore {
  constructor(private readonly h: { datasets: DatasetMemoryState }) {}
  private get list() {
    return this.h.datasets.contracts;
  }
  async putContract(c: StoredContract) {
    if (this.list.some((x) => x.projectId === c.projectId && x.name === c.name && x.version === c.version)) {
      throw new AppError('ALREADY_EXISTS', `contract '${c.name}' version ${c.version} already exists`);
    }
    this.list.push(clone(c));
  }
  async getContract(projectId: string, name: string, version: number) {
    const c = this.list.find((x) => x.projectId === projectId && x.name === name && x.version === version);
    return c ? clone(c) : null;
  }
  async latestContract(projectId: string, name: string) {
    const all = this.list.filter((x) => x.projectId === projectId && x.name === name).sort((a, b) => b.version - a.version);
    return all[0] ? clone(all[0]) : null;
  }
  async listContracts(projectId: string) {
    const latest = new Map<string, StoredContract>();
    for (const c of this.list) {
      if (c.projectId !== projectId) continue;
      const prev = latest.get(c.name);
      if (!prev || prev.version < c.version) latest.set(c.name, c);
    }
    return [...latest.values()].sort((a, b) => cmp(a.name, b.name)).map(clone);
  }
}
