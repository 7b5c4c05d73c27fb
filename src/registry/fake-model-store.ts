import { AppError } from '../core/index.ts';
import type { Approval, StoredPolicy } from './promotion-types.ts';
import type { ModelStore } from './registry-stores.ts';
import type { AliasMove, ModelAlias, ModelVersion, RegisteredModel } from './registry-types.ts';

export interface RegistryMemoryState {
  models: Map<string, RegisteredModel>;
  versions: Map<string, ModelVersion[]>;
  aliases: Map<string, Map<string, ModelAlias>>;
  moves: AliasMove[];
  policies: Map<string, StoredPolicy>;
  approvals: Approval[];
}

export const newRegistryMemoryState = (): RegistryMemoryState => ({
  models: new Map(),
  versions: new Map(),
  aliases: new Map(),
  moves: [],
  policies: new Map(),
  approvals: [],
});

const byName = (a: { name: string; id: string }, b: { name: string; id: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class FakeModelStore implements ModelStore {
  constructor(private readonly h: { registry: RegistryMemoryState }) {}
  private get s() {
    return this.h.registry;
  }
  async createModel(m: RegisteredModel) {
    if ([...this.s.models.values()].some((x) => x.projectId === m.projectId && x.name === m.name)) {
      throw new AppError('ALREADY_EXISTS', `model '${m.name}' already exists`);
    }
    this.s.models.set(m.id, { ...m });
  }
  async getModel(id: string) {
    const m = this.s.models.get(id);
    return m ? { ...m } : null;
  }
  async getModelByName(projectId: string, name: string) {
    const m = [...this.s.models.values()].find((x) => x.projectId === projectId && x.name === name);
    return m ? { ...m } : null;
  }
  async listModels(projectIds: string[] | '*') {
    return [...this.s.models.values()]
      .filter((m) => projectIds === '*' || projectIds.includes(m.projectId))
      .sort(byName)
      .map((m) => ({ ...m }));
  }
  async maxVersion(modelId: string) {
    return Math.max(0, ...(this.s.versions.get(modelId) ?? []).map((v) => v.version));
  }
  async createVersion(v: ModelVersion) {
    const list = this.s.versions.get(v.modelId) ?? [];
    if (list.some((x) => x.version === v.version)) throw new AppError('ALREADY_EXISTS', `version ${v.version} already exists`);
    list.push(structuredClone(v));
    this.s.versions.set(v.modelId, list);
  }
  async getVersion(modelId: string, version: number) {
    const v = (this.s.versions.get(modelId) ?? []).find((x) => x.version === version);
    return v ? structuredClone(v) : null;
  }
  async listVersions(modelId: string) {
    return [...(this.s.versions.get(modelId) ?? [])].sort((a, b) => a.version - b.version).map((v) => structuredClone(v));
  }
  async listAliases(modelId: string) {
    return [...(this.s.aliases.get(modelId)?.values() ?? [])].sort((a, b) => (a.alias < b.alias ? -1 : 1)).map((a) => ({ ...a }));
  }
  async setAlias(modelId: string, alias: string, version: number | null, at: number) {
    const m = this.s.aliases.get(modelId) ?? new Map<string, ModelAlias>();
    if (version === null) m.delete(alias);
    else m.set(alias, { alias, version, updatedAt: at });
    this.s.aliases.set(modelId, m);
  }
  async appendAliasMove(move: AliasMove) {
    this.s.moves.push(structuredClone(move));
  }
  async listAliasMoves(modelId: string, alias?: string) {
    return this.s.moves
      .filter((m) => m.modelId === modelId && (alias === undefined || m.alias === alias))
      .sort((a, b) => a.at - b.at || (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0))
      .map((m) => structuredClone(m));
  }
  async lastMoveAt(modelId: string, alias: string, at: number) {
    const moves = await this.listAliasMoves(modelId, alias);
    return moves.filter((m) => m.at <= at).pop() ?? null;
  }
  async getPolicy(modelId: string) {
    const p = this.s.policies.get(modelId);
    return p ? structuredClone(p) : null;
  }
  async putPolicy(p: StoredPolicy) {
    this.s.policies.set(p.modelId, structuredClone(p));
  }
  async addApproval(a: Approval) {
    const same = (x: Approval) =>
      x.modelId === a.modelId && x.version === a.version && x.alias === a.alias && x.approver === a.approver;
    if (this.s.approvals.some(same)) throw new AppError('ALREADY_EXISTS', `${a.approver} already approved version ${a.version}`);
    this.s.approvals.push(structuredClone(a));
  }
  async listApprovals(modelId: string, version?: number) {
    return this.s.approvals
      .filter((a) => a.modelId === modelId && (version === undefined || a.version === version))
      .sort((a, b) => a.at - b.at || a.version - b.version || cmp(a.alias ?? '*', b.alias ?? '*') || cmp(a.approver, b.approver))
      .map((a) => structuredClone(a));
  }
}
