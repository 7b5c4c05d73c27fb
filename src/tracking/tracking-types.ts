export const runStatuses = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof runStatuses)[number];
export const terminalStatuses: ReadonlySet<RunStatus> = new Set(['FINISHED', 'FAILED', 'KILLED']);

export interface Experiment {
  id: string;
  projectId: string;
  name: string;
  description: string;
  createdAt: number;
  createdBy: string;
}

export interface Run {
  id: string;
  projectId: string;
  experimentId: string;
  name: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  createdBy: string;
  /** Git commit (or any code digest) the run was produced by. */
  codeVersion: string | null;
  parentRunId: string | null;
}

export interface Metric {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface RunInput {
  /** Dataset content digest (`sha256:…`). */
  digest: string;
  name: string;
  /** What the dataset was used for: `training`, `evaluation`, … */
  context: string;
}

export interface Artifact {
  path: string;
  digest: string;
  size: number;
  createdAt: number;
}

/** A run with its data, as search and get return it (metrics are the latest value per key). */
export interface RunWithData extends Run {
  params: KeyValue[];
  tags: KeyValue[];
  metrics: Metric[];
  inputs: RunInput[];
}
