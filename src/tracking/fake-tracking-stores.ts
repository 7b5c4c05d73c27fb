import { AppError } from '../core/index.ts';
import { runView } from './run-view.ts';
import { compareRuns, evaluateFilter, fieldValue, type RunView } from './search/index.ts';
import { latestPerKey, paramConflict } from './sql-run-store.ts';
import type { ExperimentStore, RunSearchQuery, RunStore } from './tracking-stores.ts';
import type { Artifact, Experiment, KeyValue, Metric, Run, RunInput, RunStatus, RunWithData } from './tracking-types.ts';

export interface TrackingMemoryState {
  experiments: Map<string, Experiment>;
  runs: Map<string, Run>;
  params: Map<string, Map<string, string>>;
  metrics: Map<string, Metric[]>;
  latest: Map<string, Map<string, Metric>>;
  tags: Map<string, Map<string, string>>;
  inputs: Map<string, Map<string, RunInput>>;
  artifacts: Map<string, Map<string, Artifact>>;
}

export const newTrackingMemoryState = (): TrackingMemoryState => ({
  experiments: new Map(),
  runs: new Map(),
  params: new Map(),
  metrics: new Map(),
  latest: new Map(),
  tags: new Map(),
  inputs: new Map(),
  artifacts: new Map(),
});

type Holder = { tracking: TrackingMemoryState };

function bucket<V>(map: Map<string, Map<string, V>>, runId: string): Map<string, V> {
  let m = map.get(runId);
  if (!m) {
    m = new Map();
    map.set(runId, m);
  }
  return m;
}

const sortedPairs = (m: Map<string, string> | undefined): KeyValue[] =>
  [...(m ?? new Map<string, string>())].map(([key, value]) => ({ key, value })).sort((a, b) => (a.key < b.key ? -1 : 1));

export class FakeExperimentStore implements ExperimentStore {
  constructor(private readonly h: Holder) {}
  async create(e: Experiment) {
    const all = [...this.h.tracking.experiments.values()];
    if (all.some((x) => x.projectId === e.projectId && x.name === e.name)) {
      throw new AppError('ALREADY_EXISTS', `experiment '${e.name}' already exists`);
    }
    this.h.tracking.experiments.set(e.id, { ...e });
  }
  async get(id: string) {
    const e = this.h.tracking.experiments.get(id);
    return e ? { ...e } : null;
  }
  async getByName(projectId: string, name: string) {
    const e = [...this.h.tracking.experiments.values()].find((x) => x.projectId === projectId && x.name === name);
    return e ? { ...e } : null;
  }
  async list(projectIds: string[] | '*') {
    return [...this.h.tracking.experiments.values()]
      .filter((e) => projectIds === '*' || projectIds.includes(e.projectId))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
      .map((e) => ({ ...e }));
  }
}

export class FakeRunStore implements RunStore {
  constructor(private readonly h: Holder) {}
  private get s() {
    return this.h.tracking;
  }

  async create(run: Run) {
    this.s.runs.set(run.id, { ...run });
  }
  async get(id: string) {
    const r = this.s.runs.get(id);
    return r ? { ...r } : null;
  }
  async getWithData(id: string) {
    const r = this.s.runs.get(id);
    return r ? this.withData(r) : null;
  }
  async setStatus(id: string, status: RunStatus, endTime: number | null) {
    const r = this.s.runs.get(id);
    if (r) Object.assign(r, { status, endTime });
  }
  async logParams(runId: string, params: KeyValue[]) {
    const known = bucket(this.s.params, runId);
    const conflicts = params.filter((p) => known.has(p.key) && known.get(p.key) !== p.value);
    if (conflicts.length > 0) throw paramConflict(conflicts, known);
    for (const p of params) known.set(p.key, p.value);
  }
  async logMetrics(runId: string, metrics: Metric[]) {
    const history = this.s.metrics.get(runId) ?? [];
    history.push(...metrics.map((m) => ({ ...m })));
    this.s.metrics.set(runId, history);
    const latest = bucket(this.s.latest, runId);
    for (const m of latestPerKey(metrics)) {
      const prev = latest.get(m.key);
      const [best] = latestPerKey(prev ? [prev, m] : [m]).filter((x) => x.key === m.key);
      if (best) latest.set(m.key, { ...best });
    }
  }
  async setTags(runId: string, tags: KeyValue[]) {
    const m = bucket(this.s.tags, runId);
    for (const t of tags) m.set(t.key, t.value);
  }
  async deleteTag(runId: string, key: string) {
    return bucket(this.s.tags, runId).delete(key);
  }
  async addInputs(runId: string, inputs: RunInput[]) {
    const m = bucket(this.s.inputs, runId);
    for (const i of inputs) if (!m.has(i.digest)) m.set(i.digest, { ...i });
  }
  async metricHistory(runId: string, key: string, limit: number, afterIndex: number) {
    return (this.s.metrics.get(runId) ?? [])
      .filter((m) => m.key === key)
      .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp || a.value - b.value)
      .slice(afterIndex, afterIndex + limit)
      .map((m) => ({ ...m }));
  }
  async putArtifact(runId: string, a: Artifact) {
    bucket(this.s.artifacts, runId).set(a.path, { ...a });
  }
  async getArtifact(runId: string, path: string) {
    const a = this.s.artifacts.get(runId)?.get(path);
    return a ? { ...a } : null;
  }
  async listArtifacts(runId: string, prefix: string) {
    return [...(this.s.artifacts.get(runId)?.values() ?? [])]
      .filter((a) => a.path.startsWith(prefix))
      .sort((a, b) => (a.path < b.path ? -1 : 1))
      .map((a) => ({ ...a }));
  }

  async search(q: RunSearchQuery): Promise<RunWithData[]> {
    const views: { run: Run; view: RunView }[] = [];
    for (const run of this.s.runs.values()) {
      if (q.projectIds !== '*' && !q.projectIds.includes(run.projectId)) continue;
      if (q.experimentIds && !q.experimentIds.includes(run.experimentId)) continue;
      const view = this.view(run);
      if (evaluateFilter(q.filter, view)) views.push({ run, view });
    }
    views.sort((a, b) => compareRuns(q.order, a.view, b.view));
    let start = 0;
    if (q.after) {
      const after = q.after;

      // The cursor carries order-key values, so compare each row's keys against them directly.
      start = views.findIndex(({ view }) => {
        for (const [i, key] of q.order.entries()) {
          const v = fieldValue(view, key.field);
          const c = after.values[i] ?? null;
          if (v === c) continue;
          if (c === null) return false;
          if (v === null) return true;
          const d = v < c ? -1 : 1;
          return key.desc ? d < 0 : d > 0;
        }
        return String(view.attributes.id) > after.id;
      });
      if (start < 0) start = views.length;
    }
    return views.slice(start, start + q.limit).map(({ run }) => this.withData(run));
  }

  private view(run: Run): RunView {
    return runView(
      run,
      new Map([...(this.s.latest.get(run.id)?.values() ?? [])].map((m) => [m.key, m.value])),
      this.s.params.get(run.id) ?? new Map(),
      this.s.tags.get(run.id) ?? new Map(),
    );
  }

  private withData(run: Run): RunWithData {
    return {
      ...run,
      params: sortedPairs(this.s.params.get(run.id)),
      tags: sortedPairs(this.s.tags.get(run.id)),
      metrics: [...(this.s.latest.get(run.id)?.values() ?? [])].sort((a, b) => (a.key < b.key ? -1 : 1)).map((m) => ({ ...m })),
      inputs: [...(this.s.inputs.get(run.id)?.values() ?? [])]
        .sort((a, b) => (a.digest < b.digest ? -1 : 1))
        .map((i) => ({ ...i })),
    };
  }
}
