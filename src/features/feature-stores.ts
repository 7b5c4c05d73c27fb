import type { ObjectKind } from './feature-definitions.ts';

/** One version of one definition object. */
export interface FeatureObject {
  projectId: string;
  kind: ObjectKind;
  name: string;
  version: number;
  spec: unknown;
  /** sha256 of the canonical spec: equal digests mean an unchanged object. */
  digest: string;
  createdAt: number;
  createdBy: string;
  deletedAt: number | null;
}

export interface ViewState {
  view: string;
  watermark: number | null;
  materializedAt: number | null;
  rowsWritten: number;
}

export interface FeatureRegistryStore {
  /** The latest version of every object of the project, deleted ones included (deletedAt set). */
  listLatest(projectId: string): Promise<FeatureObject[]>;
  /** ALREADY_EXISTS when that version number is taken. */
  putVersion(obj: FeatureObject): Promise<void>;
  markDeleted(projectId: string, kind: ObjectKind, name: string, version: number, at: number): Promise<void>;
  getVersion(projectId: string, kind: ObjectKind, name: string, version: number): Promise<FeatureObject | null>;
  getState(projectId: string, view: string): Promise<ViewState | null>;
  listStates(projectId: string): Promise<ViewState[]>;
  putState(projectId: string, state: ViewState): Promise<void>;
}
