import type { Principal } from '../auth/index.ts';
import type { Clock } from '../core/index.ts';
import type { TrackingService } from '../tracking/index.ts';
import type { StepSpec } from './pipeline-spec.ts';
import type { PipelineStore } from './pipeline-stores.ts';
import type { PipelineRun } from './pipeline-types.ts';

const metricKey = /^[\w./\- :]+$/;

/**
 * Mirrors pipeline runs into experiment tracking: one run per pipeline run in experiment
 * `pipeline/<name>`, a child run per step (tag `keel.parentRunId`, as MLflow nests runs), with
 * the step's metrics. Tracking is a record, not a dependency: its failures are logged, not fatal.
 */
export class StepTracking {
  constructor(
    private readonly tracking: TrackingService,
    private readonly store: () => PipelineStore,
    private readonly clock: Clock,
  ) {}

  /** Starts the run's tracking run, or a new one when resuming a run whose tracking run already ended. */
  async runStarted(actor: Principal, run: PipelineRun): Promise<void> {
    if (run.trackingRunId) {
      const existing = await this.tracking.getRun(actor, run.trackingRunId).catch(() => null);
      if (existing?.status === 'RUNNING') return;
    }
    const started = await this.tracking.startRun(actor, {
      projectId: run.projectId,
      experiment: `pipeline/${run.pipeline}`,
      name: `${run.pipeline} ${run.id}`,
      params: Object.entries(run.params).map(([key, value]) => ({ key, value: String(value) })),
      tags: [
        { key: 'keel.pipeline', value: `${run.pipeline}@${run.version}` },
        { key: 'keel.pipelineRun', value: run.id },
        { key: 'keel.trigger', value: run.trigger },
        ...(run.trackingRunId ? [{ key: 'keel.resumedFrom', value: run.trackingRunId }] : []),
      ],
    });
    run.trackingRunId = started.id;
    await this.store().updateRun(run.id, { trackingRunId: started.id });
  }

  async runEnded(actor: Principal, run: PipelineRun, status: PipelineRun['status']): Promise<void> {
    if (!run.trackingRunId) return;
    const mapped = status === 'succeeded' ? 'FINISHED' : status === 'cancelled' ? 'KILLED' : 'FAILED';
    await this.tracking.updateRun(actor, run.trackingRunId, { status: mapped, endTime: this.clock.now() }).catch(() => {});
  }

  async stepStarted(actor: Principal, run: PipelineRun, step: StepSpec): Promise<string | null> {
    const child = await this.tracking.startRun(actor, {
      projectId: run.projectId,
      experiment: `pipeline/${run.pipeline}`,
      name: step.name,
      parentRunId: run.trackingRunId,
      tags: [
        { key: 'keel.pipelineRun', value: run.id },
        { key: 'keel.step', value: step.name },
        { key: 'keel.stepKind', value: step.kind },
      ],
    });
    return child.id;
  }

  async stepEnded(
    actor: Principal,
    runId: string | null,
    outcome: 'succeeded' | 'cached' | 'failed',
    metrics?: Record<string, number>,
  ): Promise<void> {
    if (!runId) return;
    if (outcome === 'cached') await this.tracking.logBatch(actor, runId, { tags: [{ key: 'keel.cache', value: 'hit' }] });
    if (metrics && outcome !== 'failed') await this.logMetrics(actor, runId, metrics);
    await this.tracking.updateRun(actor, runId, { status: outcome === 'failed' ? 'FAILED' : 'FINISHED' });
  }

  /**
   * Records on the pipeline's tracking run the datasets a step read: loaded dataset versions as
   * `training` inputs, evaluation sets as `evaluation` inputs (promotion gates compare on them).
   */
  async recordInputs(actor: Principal, run: PipelineRun, step: string, values: Record<string, unknown>): Promise<void> {
    if (!run.trackingRunId) return;
    const lineage = values.lineage as { datasetDigests?: string[]; datasetVersions?: string[] } | undefined;
    const inputs = (lineage?.datasetDigests ?? []).map((digest, i) => ({
      digest,
      name: lineage?.datasetVersions?.[i] ?? step,
      context: 'training',
    }));
    if (typeof values.eval_digest === 'string')
      inputs.push({ digest: values.eval_digest, name: `${step}.test`, context: 'evaluation' });
    if (inputs.length > 0) await this.tracking.logInputs(actor, run.trackingRunId, inputs);
  }

  /** Logs numeric metrics in batches of 1000, skipping keys tracking would refuse. */
  async logMetrics(actor: Principal, runId: string | null, metrics: Record<string, number>, step = 0): Promise<void> {
    if (!runId) return;
    const now = this.clock.now();
    const list = Object.entries(metrics)
      .filter(([k, v]) => metricKey.test(k) && k.length <= 250 && Number.isFinite(v))
      .map(([key, value]) => ({ key, value, step, timestamp: now }));
    for (let i = 0; i < list.length; i += 1000) await this.tracking.logBatch(actor, runId, { metrics: list.slice(i, i + 1000) });
  }

  /** Uploads a step's log as an artifact of its child run. */
  async attachLog(actor: Principal, runId: string | null, path: string, body: NodeJS.ReadableStream): Promise<void> {
    if (!runId) return;
    await this.tracking.uploadArtifact(actor, runId, path, body as never);
  }
}
