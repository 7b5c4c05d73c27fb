import type { HttpClient } from './http.ts';

export type PipelineParamValue = string | number | boolean;

export interface PipelineStepView {
  step: string;
  status: 'pending' | 'running' | 'succeeded' | 'cached' | 'failed' | 'cancelled' | 'skipped';
  attempts: number;
  cacheKey: string | null;
  explain: string | null;
  outputs: { artifacts: Record<string, { digest: string; bytes: number }>; values: Record<string, unknown> } | null;
  trackingRunId: string | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface PipelineRunView {
  id: string;
  pipeline: string;
  version: number;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  params: Record<string, PipelineParamValue>;
  trigger: string;
  trackingRunId: string | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
  steps: PipelineStepView[];
}

export interface PipelineDefinitionView {
  name: string;
  version: number;
  digest: string;
  spec: { steps: { name: string; kind: string }[]; triggers: unknown[]; params: Record<string, PipelineParamValue> };
  createdAt: number;
  nextRuns?: number[];
}

const terminal = new Set(['succeeded', 'failed', 'cancelled']);

/** The pipeline endpoints, as `keel.pipelines`. */
export class PipelinesApi {
  constructor(
    private readonly http: HttpClient,
    private readonly project: string,
  ) {}

  apply(spec: unknown, baseDir: string | null = null) {
    return this.http.json<{ definition: PipelineDefinitionView; changed: boolean }>('POST', 'api/v1/pipelines', {
      json: { spec, baseDir, project: this.project },
    });
  }

  list() {
    return this.http.json<{ pipelines: PipelineDefinitionView[] }>('GET', 'api/v1/pipelines', {
      query: { project: this.project },
    });
  }

  get(name: string) {
    return this.http.json<PipelineDefinitionView>('GET', `api/v1/pipelines/${encodeURIComponent(name)}`, {
      query: { project: this.project },
    });
  }

  run(name: string, opts: { params?: Record<string, PipelineParamValue>; version?: number } = {}) {
    return this.http.json<PipelineRunView>('POST', `api/v1/pipelines/${encodeURIComponent(name)}/runs`, {
      json: { project: this.project, ...opts },
    });
  }

  runs(name: string, limit?: number) {
    return this.http.json<{ runs: Omit<PipelineRunView, 'steps'>[] }>(
      'GET',
      `api/v1/pipelines/${encodeURIComponent(name)}/runs`,
      {
        query: { project: this.project, ...(limit ? { limit: String(limit) } : {}) },
      },
    );
  }

  getRun(id: string) {
    return this.http.json<PipelineRunView>('GET', `api/v1/pipeline-runs/${encodeURIComponent(id)}`);
  }

  resume(id: string) {
    return this.http.json<PipelineRunView>('POST', `api/v1/pipeline-runs/${encodeURIComponent(id)}/resume`, { json: {} });
  }

  cancel(id: string) {
    return this.http.json<PipelineRunView>('POST', `api/v1/pipeline-runs/${encodeURIComponent(id)}/cancel`, { json: {} });
  }

  publishEvent(topic: string, payload: Record<string, unknown> = {}) {
    return this.http.json<{ published: string }>('POST', 'api/v1/events', { json: { topic, payload, project: this.project } });
  }

  /** Polls a run until it ends; `onUpdate` sees every poll (progress display). */
  async wait(
    id: string,
    opts: { intervalMs?: number; onUpdate?: (run: PipelineRunView) => void } = {},
  ): Promise<PipelineRunView> {
    for (;;) {
      const run = await this.getRun(id);
      opts.onUpdate?.(run);
      if (terminal.has(run.status)) return run;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
    }
  }
}
