import { seededRandom } from '../../src/core/index.ts';
import type { Stores } from '../../src/stores.ts';
import type { Metric, RunStatus } from '../../src/tracking/index.ts';
import type { Backend } from '../helpers/sql-backends.ts';

export { seededRandom };

export const T0 = 1_700_000_000_000;

export interface SeedRun {
  id: string;
  projectId: string;
  experimentId: string;
  name: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  points: Metric[];
  /** Latest value per metric key, computed here independently of the stores. */
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

export const experiments = [
  { id: 'exp_a', projectId: 'prj_s1', name: 'alpha' },
  { id: 'exp_b', projectId: 'prj_s1', name: 'beta' },
  { id: 'exp_c', projectId: 'prj_s2', name: 'gamma' },
];

// Mixed case and punctuation on purpose: ordering must be bytewise on every backend.
const names = ['alpha', 'Alpha', 'ALPHA-1', 'beta_2', 'beta-2', 'Beta.3', 'gamma', 'delta%', 'x_y', 'xzy'];
const statuses: RunStatus[] = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'];
const paramValues: Record<string, string[]> = {
  lr: ['0.1', '0.01', '0.001'],
  depth: ['1', '2', '3', '5', '8', '10', '12'],
  'model.type': ['tree', 'linear', 'Tree', 'Linear-SVM'],
  opt: ['Adam', 'adam', 'SGD', 'sgd_m'],
};
const tagValues: Record<string, string[]> = {
  team: ['a', 'b', 'c'],
  env: ['prod', 'Prod', 'dev', 'PROD'],
  note: ['50%_off', '50x off', 'a_b', 'aXb', 'c\\d', 'cd', '(x.y)', 'xay', 'x+y'],
};
const metricKeys = ['acc', 'loss', 'val.auc', 'f1'];

export function buildDataset(seed: number, count: number): SeedRun[] {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const runs: SeedRun[] = [];
  const ids = new Set<string>();
  while (runs.length < count) {
    let id = 'run_';
    for (let i = 0; i < 10; i++) id += '0123456789abcdefghijklmnopqrstuvwxyz'[int(36)];
    if (ids.has(id)) continue;
    ids.add(id);
    const exp = pick(experiments);
    const status = pick(statuses);
    // Few distinct start times, so ordering ties are common and the id tie-break matters.
    const startTime = T0 + int(40) * 1000;
    const points: Metric[] = [];
    const metrics: Record<string, number> = {};
    for (const key of metricKeys) {
      if (rnd() < 0.35) continue;
      const n = 1 + int(3);
      for (let i = 0; i < n; i++) {
        const value = key === 'f1' ? (int(41) - 20) / 20 : int(21) / 20;
        points.push({ key, value, step: int(4), timestamp: T0 + int(3) });
      }
      const best = points
        .filter((p) => p.key === key)
        .reduce((a, b) =>
          b.step > a.step ||
          (b.step === a.step && (b.timestamp > a.timestamp || (b.timestamp === a.timestamp && b.value > a.value)))
            ? b
            : a,
        );
      metrics[key] = best.value;
    }
    const params: Record<string, string> = {};
    for (const [key, values] of Object.entries(paramValues)) if (rnd() < 0.7) params[key] = pick(values);
    const tags: Record<string, string> = {};
    for (const [key, values] of Object.entries(tagValues)) if (rnd() < 0.65) tags[key] = pick(values);
    runs.push({
      id,
      projectId: exp.projectId,
      experimentId: exp.id,
      name: pick(names),
      status,
      startTime,
      endTime: status === 'RUNNING' ? null : startTime + (1 + int(30)) * 500,
      points,
      metrics,
      params,
      tags,
    });
  }
  return runs;
}

/** Writes the dataset through the store ports, in one transaction. */
export async function loadDataset(backend: Backend, runs: SeedRun[]): Promise<void> {
  await backend.tx.transaction(async (s: Stores) => {
    for (const id of ['prj_s1', 'prj_s2'])
      await s.projects.create({ id, name: id, description: '', createdAt: 0, createdBy: 'system' });
    for (const e of experiments) await s.experiments.create({ ...e, description: '', createdAt: 0, createdBy: 'system' });
    for (const r of runs) {
      await s.runs.create({
        id: r.id,
        projectId: r.projectId,
        experimentId: r.experimentId,
        name: r.name,
        status: r.status,
        startTime: r.startTime,
        endTime: r.endTime,
        createdBy: 'system',
        codeVersion: null,
        parentRunId: null,
      });
      await s.runs.logParams(
        r.id,
        Object.entries(r.params).map(([key, value]) => ({ key, value })),
      );
      await s.runs.setTags(
        r.id,
        Object.entries(r.tags).map(([key, value]) => ({ key, value })),
      );
      // Two batches, so the latest metric is also kept right across batches.
      const half = Math.floor(r.points.length / 2);
      await s.runs.logMetrics(r.id, r.points.slice(0, half));
      await s.runs.logMetrics(r.id, r.points.slice(half));
    }
  });
}
