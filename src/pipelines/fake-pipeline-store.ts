import { AppError } from '../core/index.ts';
import type { PipelineStore } from './pipeline-stores.ts';
import type { CacheEntry, PipelineDefinition, PipelineRun, StepRun } from './pipeline-types.ts';

export interface PipelineMemoryState {
  definitions: PipelineDefinition[];
  runs: Map<string, PipelineRun>;
  steps: Map<string, StepRun[]>;
  cache: Map<string, CacheEntry>;
}

export const newPipelineMemoryState = (): PipelineMemoryState => ({
  definitions: [],
  runs: new Map(),
  steps: new Map(),
  cache: new Map(),
});

const copy = <T>(v: T): T => structuredClone(v);

/** In-memory PipelineStore with the SQL adapter's semantics (passes the same contract suite). */
export class FakePipelineStore implements PipelineStore {
  constructor(private readonly state: { pipelines: PipelineMemoryState }) {}

  private get s() {
    return this.state.pipelines;
  }

  async putDefinition(d: PipelineDefinition) {
    if (this.s.definitions.some((x) => x.projectId === d.projectId && x.name === d.name && x.version === d.version)) {
      throw new AppError('ALREADY_EXISTS', `pipeline '${d.name}' version ${d.version} already exists`);
    }
    this.s.definitions.push(copy(d));
  }

  async latestDefinition(projectId: string, name: string) {
    const all = this.s.definitions.filter((d) => d.projectId === projectId && d.name === name);
    return copy(all.sort((a, b) => b.version - a.version)[0] ?? null);
  }

  async getDefinition(projectId: string, name: string, version: number) {
    return copy(this.s.definitions.find((d) => d.projectId === projectId && d.name === name && d.version === version) ?? null);
  }

  async listDefinitions(projectId: string | null) {
    const latest = new Map<string, PipelineDefinition>();
    for (const d of this.s.definitions) {
      if (projectId !== null && d.projectId !== projectId) continue;
      const k = `${d.projectId}\u0000${d.name}`;
      if ((latest.get(k)?.version ?? 0) < d.version) latest.set(k, d);
    }
    const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return copy([...latest.values()].sort((a, b) => byBytes(a.projectId, b.projectId) || byBytes(a.name, b.name)));
  }

  async createRun(run: PipelineRun, steps: StepRun[]) {
    if (this.s.runs.has(run.id)) throw new AppError('ALREADY_EXISTS', `pipeline run '${run.id}' already exists`);
    this.s.runs.set(run.id, copy(run));
    this.s.steps.set(run.id, copy(steps));
  }

  async getRun(id: string) {
    return copy(this.s.runs.get(id) ?? null);
  }

  async listRuns(projectId: string, pipeline: string | null, limit: number) {
    const runs = [...this.s.runs.values()].filter(
      (r) => r.projectId === projectId && (pipeline === null || r.pipeline === pipeline),
    );
    runs.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    return copy(runs.slice(0, limit));
  }

  async runsWithStatus(status: PipelineRun['status']) {
    return copy([...this.s.runs.values()].filter((r) => r.status === status));
  }

  async updateRun(id: string, patch: Partial<Pick<PipelineRun, 'status' | 'error' | 'finishedAt' | 'trackingRunId'>>) {
    const run = this.s.runs.get(id);
    if (run) Object.assign(run, copy(patch));
  }

  async getSteps(runId: string) {
    return copy(this.s.steps.get(runId) ?? []);
  }

  async updateStep(runId: string, step: string, patch: Partial<Omit<StepRun, 'runId' | 'step'>>) {
    const s = this.s.steps.get(runId)?.find((x) => x.step === step);
    if (s) Object.assign(s, copy(patch));
  }

  async getCache(projectId: string, key: string) {
    return copy(this.s.cache.get(`${projectId}\u0000${key}`) ?? null);
  }

  async lastCacheFor(projectId: string, pipeline: string, step: string) {
    let best: CacheEntry | null = null;
    for (const e of this.s.cache.values()) {
      if (e.projectId === projectId && e.pipeline === pipeline && e.step === step && (!best || e.createdAt >= best.createdAt))
        best = e;
    }
    return copy(best);
  }

  async putCache(e: CacheEntry) {
    const k = `${e.projectId}\u0000${e.key}`;
    if (!this.s.cache.has(k)) this.s.cache.set(k, copy(e));
  }
}
