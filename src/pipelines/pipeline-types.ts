import type { PipelineSpec } from './pipeline-spec.ts';

export type PipelineRunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'cached' | 'failed' | 'cancelled' | 'skipped';
export type ParamValue = string | number | boolean;

/** A stored, versioned pipeline: a new version whenever the spec's digest changes. */
export interface PipelineDefinition {
  projectId: string;
  name: string;
  version: number;
  spec: PipelineSpec;
  digest: string;
  /** Where relative paths in command steps resolve (the directory of the YAML file). */
  baseDir: string | null;
  createdAt: number;
  createdBy: string;
}

/** A file a step wrote, kept in the content-addressed blob store. */
export interface OutputArtifact {
  digest: string;
  bytes: number;
  /** Facts the next step may need (e.g. the dataset version the file is). */
  meta?: Record<string, unknown>;
}

export interface StepOutputs {
  artifacts: Record<string, OutputArtifact>;
  values: Record<string, unknown>;
}

export interface PipelineRun {
  id: string;
  projectId: string;
  pipeline: string;
  version: number;
  status: PipelineRunStatus;
  params: Record<string, ParamValue>;
  /** manual, cron, dataset:<name>, event:<topic>, resume … */
  trigger: string;
  trackingRunId: string | null;
  error: string | null;
  createdAt: number;
  createdBy: string;
  finishedAt: number | null;
}

export interface StepRun {
  runId: string;
  step: string;
  status: StepStatus;
  attempts: number;
  cacheKey: string | null;
  /** Why the step hit or missed the cache (`keel pipelines run --explain`). */
  explain: string | null;
  outputs: StepOutputs | null;
  trackingRunId: string | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

/** What goes into a cache key, kept so a miss can say which part changed. */
export interface CacheKeyParts {
  code: string;
  params: Record<string, unknown>;
  inputs: Record<string, string>;
}

export interface CacheEntry {
  projectId: string;
  key: string;
  pipeline: string;
  step: string;
  parts: CacheKeyParts;
  outputs: StepOutputs;
  runId: string;
  createdAt: number;
}
