import type { Principal } from '../auth/index.ts';
import type { StepSpec } from './pipeline-spec.ts';
import type { OutputArtifact } from './pipeline-types.ts';

/** An input as a step sees it: a file (an upstream artifact) or a value an upstream step returned. */
export type StepInput =
  | { kind: 'file'; path: string; digest: string; meta: Record<string, unknown> }
  | { kind: 'value'; value: unknown };

/** Lineage facts a step adds for the steps after it (merged over the whole run). */
export interface RunLineage {
  datasetDigests: string[];
  datasetVersions: string[];
  featureService: string | null;
  codeVersion: string | null;
}

export interface StepContext {
  projectId: string;
  actor: Principal;
  pipeline: string;
  runId: string;
  /** The pipeline run's tracking run and this step's child run. */
  trackingRunId: string | null;
  stepTrackingRunId: string | null;
  step: StepSpec;
  /** Step params with `${params.x}` resolved. */
  params: Record<string, unknown>;
  inputs: Record<string, StepInput>;
  /** A fresh, empty directory for this attempt. */
  workDir: string;
  /** Where relative paths resolve (the pipeline file's directory). */
  baseDir: string;
  /** Aborted on cancel or timeout. */
  signal: AbortSignal;
  timeoutMs: number | null;
  lineage: RunLineage;
  log(line: string): void;
  logMetrics(metrics: Record<string, number>, step?: number): Promise<void>;
  /** Keeps a log file as an artifact of the step's tracking run (best effort). */
  attachLog(path: string): Promise<void>;
  /** Reports progress for `keel pipelines runs show` (free text). */
  progress(text: string): void;
}

export interface StepResult {
  /** Files to keep as outputs (moved into the blob store), with facts for the next steps. */
  files?: Record<string, { path: string; meta?: Record<string, unknown> }>;
  values?: Record<string, unknown>;
  metrics?: Record<string, number>;
  lineage?: Partial<RunLineage>;
}

/** A kind of step: what it does, and what besides params and inputs decides whether it may be skipped. */
export interface StepKind {
  kind: string;
  /** Changes when the step's code changes, so cached results of older code are not reused. */
  version: string;
  /** Checks params early (when a pipeline is applied) with messages naming the step. */
  checkParams?(params: Record<string, unknown>, step: StepSpec): void;
  /**
   * Facts the cache key needs beyond params and input digests: the content of a command's
   * script, or which dataset version "latest" names now.
   */
  fingerprint?(ctx: StepContext): Promise<Record<string, unknown>>;
  execute(ctx: StepContext): Promise<StepResult>;
}

export type { OutputArtifact };

/** The file behind an input, or a clear error naming the step and input. */
export function fileInput(ctx: StepContext, name: string): { path: string; digest: string; meta: Record<string, unknown> } {
  const input = ctx.inputs[name];
  if (!input) throw new StepError(`step '${ctx.step.name}' needs input '${name}'`);
  if (input.kind !== 'file') throw new StepError(`input '${name}' of step '${ctx.step.name}' must be a file output`);
  return input;
}

export function optionalFileInput(ctx: StepContext, name: string) {
  return ctx.inputs[name] ? fileInput(ctx, name) : null;
}

/** A failure retrying cannot fix (bad params, a refused gate): the runner does not retry it. */
export class StepError extends Error {
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'StepError';
  }
}
