export interface TensorSpec {
  name: string;
  dtype: string;
  shape: (number | string | null)[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface Lineage {
  runId: string | null;
  datasetDigests: string[];
  codeVersion: string | null;
  /** Feature service name@version the model was trained with, when it used the feature store. */
  featureService: string | null;
  /**
   * Digest of the pinned evaluation dataset the metrics were measured on. `no_regression` gates
   * compare two versions only when they share it. Absent on versions registered before it existed.
   */
  evalDatasetDigest?: string | null;
}

/** What the registry knows about a version besides its bytes (DESIGN §6). */
export interface ModelManifest {
  format: 'onnx';
  signature: ModelSignature;
  metrics: Record<string, number>;
  lineage: Lineage;
  tags: Record<string, string>;
  opsets: { domain: string; version: number }[];
  producer: string;
}

export interface RegisteredModel {
  id: string;
  projectId: string;
  name: string;
  description: string;
  createdAt: number;
  createdBy: string;
}

export interface ModelVersion {
  id: string;
  modelId: string;
  version: number;
  source: 'upload' | 'run';
  runId: string | null;
  artifactDigest: string;
  artifactSize: number;
  manifest: ModelManifest;
  description: string;
  createdAt: number;
  createdBy: string;
}

export interface ModelAlias {
  alias: string;
  version: number;
  updatedAt: number;
}

export interface GateCheck {
  name: string;
  passed: boolean;
  value?: unknown;
  threshold?: unknown;
  message?: string;
}

export interface AliasMove {
  id: string;
  modelId: string;
  alias: string;
  /** null: the alias did not exist before this move. */
  fromVersion: number | null;
  /** null: the move deleted the alias. */
  toVersion: number | null;
  actor: string;
  reason: string;
  at: number;
  checks: GateCheck[] | null;
}
