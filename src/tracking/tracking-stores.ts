import type { Page } from '../core/index.ts';
import type { FilterNode, OrderKey } from './search/index.ts';
import type { Artifact, Experiment, KeyValue, Metric, Run, RunInput, RunStatus, RunWithData } from './tracking-types.ts';

export interface ExperimentStore {
  /** ALREADY_EXISTS when the project already has an experiment of that name. */
  create(e: Experiment): Promise<void>;
  get(id: string): Promise<Experiment | null>;
  getByName(projectId: string, name: string): Promise<Experiment | null>;
  /** Experiments of the given projects (`*` for all), by name. */
  list(projectIds: string[] | '*'): Promise<Experiment[]>;
}

export interface RunSearchQuery {
  /** Restrict to these projects (`*` for all). */
  projectIds: string[] | '*';
  experimentIds?: string[];
  filter: FilterNode | null;
  order: OrderKey[];
  limit: number;
  /** Cursor from the previous page: the order-key values and id of its last run. */
  after?: { values: (string | number | null)[]; id: string };
}

export interface RunStore {
  create(run: Run): Promise<void>;
  get(id: string): Promise<Run | null>;
  getWithData(id: string): Promise<RunWithData | null>;
  setStatus(id: string, status: RunStatus, endTime: number | null): Promise<void>;
  /**
   * Inserts params. A key already set to the same value is a no-op; a different value is a
   * PARAM_CONFLICT and nothing of the batch is written.
   */
  logParams(runId: string, params: KeyValue[]): Promise<void>;
  /** Appends metric points and keeps the latest value per key (max step, then timestamp). */
  logMetrics(runId: string, metrics: Metric[]): Promise<void>;
  setTags(runId: string, tags: KeyValue[]): Promise<void>;
  deleteTag(runId: string, key: string): Promise<boolean>;
  addInputs(runId: string, inputs: RunInput[]): Promise<void>;
  /** Points of one metric in step order, then timestamp. */
  metricHistory(runId: string, key: string, limit: number, afterIndex: number): Promise<Metric[]>;
  putArtifact(runId: string, artifact: Artifact): Promise<void>;
  getArtifact(runId: string, path: string): Promise<Artifact | null>;
  /** Artifacts whose path starts with `prefix`, by path. */
  listArtifacts(runId: string, prefix: string): Promise<Artifact[]>;
  search(q: RunSearchQuery): Promise<RunWithData[]>;
}

export type { Page };
