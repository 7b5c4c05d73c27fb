import type { CacheEntry, PipelineDefinition, PipelineRun, StepRun } from './pipeline-types.ts';

export interface PipelineStore {
  /** Adds a version; fails on a duplicate (project, name, version). */
  putDefinition(def: PipelineDefinition): Promise<void>;
  latestDefinition(projectId: string, name: string): Promise<PipelineDefinition | null>;
  getDefinition(projectId: string, name: string, version: number): Promise<PipelineDefinition | null>;
  /** The latest version of every pipeline of a project (or of all projects). */
  listDefinitions(projectId: string | null): Promise<PipelineDefinition[]>;

  createRun(run: PipelineRun, steps: StepRun[]): Promise<void>;
  getRun(id: string): Promise<PipelineRun | null>;
  /** Newest first. */
  listRuns(projectId: string, pipeline: string | null, limit: number): Promise<PipelineRun[]>;
  /** Runs in a given status across projects (startup recovery). */
  runsWithStatus(status: PipelineRun['status']): Promise<PipelineRun[]>;
  updateRun(id: string, patch: Partial<Pick<PipelineRun, 'status' | 'error' | 'finishedAt' | 'trackingRunId'>>): Promise<void>;

  getSteps(runId: string): Promise<StepRun[]>;
  updateStep(runId: string, step: string, patch: Partial<Omit<StepRun, 'runId' | 'step'>>): Promise<void>;

  getCache(projectId: string, key: string): Promise<CacheEntry | null>;
  /** The newest entry for a step of a pipeline, to explain a miss. */
  lastCacheFor(projectId: string, pipeline: string, step: string): Promise<CacheEntry | null>;
  /** Keeps the first entry when the key exists (same key, same outputs by construction). */
  putCache(entry: CacheEntry): Promise<void>;
}
