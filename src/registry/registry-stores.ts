import type { Approval, StoredPolicy } from './promotion-types.ts';
import type { AliasMove, ModelAlias, ModelVersion, RegisteredModel } from './registry-types.ts';

export interface ModelStore {
  /** ALREADY_EXISTS when the project already has a model of that name. */
  createModel(m: RegisteredModel): Promise<void>;
  getModel(id: string): Promise<RegisteredModel | null>;
  getModelByName(projectId: string, name: string): Promise<RegisteredModel | null>;
  listModels(projectIds: string[] | '*'): Promise<RegisteredModel[]>;
  /** Highest version number of the model, 0 when it has none. */
  maxVersion(modelId: string): Promise<number>;
  /** ALREADY_EXISTS when the version number is taken (a concurrent registration). */
  createVersion(v: ModelVersion): Promise<void>;
  getVersion(modelId: string, version: number): Promise<ModelVersion | null>;
  listVersions(modelId: string): Promise<ModelVersion[]>;
  listAliases(modelId: string): Promise<ModelAlias[]>;
  /** Points `alias` at `version`, or removes it when `version` is null. */
  setAlias(modelId: string, alias: string, version: number | null, at: number): Promise<void>;
  appendAliasMove(move: AliasMove): Promise<void>;
  /** Moves oldest first; all aliases when `alias` is omitted. */
  listAliasMoves(modelId: string, alias?: string): Promise<AliasMove[]>;
  /** The last move of `alias` at or before `at`, or null when it had never moved by then. */
  lastMoveAt(modelId: string, alias: string, at: number): Promise<AliasMove | null>;
  /** The model's promotion policy, or null when it has none. */
  getPolicy(modelId: string): Promise<StoredPolicy | null>;
  /** Creates or replaces the model's policy. */
  putPolicy(p: StoredPolicy): Promise<void>;
  /** ALREADY_EXISTS when the approver already approved that version for that alias (or for any). */
  addApproval(a: Approval): Promise<void>;
  /** Approvals of the model (of one version when given), oldest first. */
  listApprovals(modelId: string, version?: number): Promise<Approval[]>;
}
