import { createHash } from 'node:crypto';
import type { Insertable, Kysely } from 'kysely';
import { newId, seededRandom as prng } from '../../src/core/index.ts';
import type { Database, SqlDialectName } from '../../src/storage/index.ts';

export { prng };

export interface SeedSpec {
  runs: number;
  metrics: number;
  params: number;
  projectId: string;
  /** The admin key id: what the API records as `created_by` and audit actor. */
  actorId: string;
  experiments: { id: string; name: string }[];
}

export const tagValues = {
  team: ['vision', 'speech', 'ranking', 'forecast'],
  'mlflow.source.type': ['JOB', 'LOCAL'],
  dataset: ['flights-2001-01', 'flights-2001-02', 'flights-2001-03', 'flights-2001-04', 'flights-2001-05', 'flights-2001-06'],
} as const;

const commits = Array.from({ length: 64 }, (_, k) => createHash('sha1').update(`commit ${k}`).digest('hex'));

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

type Rows = {
  runs: Insertable<Database['runs']>[];
  params: Insertable<Database['params']>[];
  metrics: Insertable<Database['metrics']>[];
  latest_metrics: Insertable<Database['latest_metrics']>[];
  run_tags: Insertable<Database['run_tags']>[];
  audit_events: Insertable<Database['audit_events']>[];
};

/**
 * The rows the API writes for one run created with params and tags (POST /runs), given its
 * metrics in one batch (POST /runs/:id/log) and finished (PATCH /runs/:id): the run, params,
 * tags, metric points, latest metrics and the three audit events.
 */
function runRows(spec: SeedSpec, i: number, now: number, rand: () => number, out: Rows): string {
  const exp = spec.experiments[i % spec.experiments.length] as { id: string; name: string };
  const id = newId('run');
  const startTime = now - (spec.runs - i) * 60_000 - Math.floor(rand() * 30_000);
  const endTime = startTime + 600_000 + Math.floor(rand() * 1_200_000);
  const r = rand();
  const status = r < 0.9 ? 'FINISHED' : r < 0.97 ? 'FAILED' : 'KILLED';
  const name = `run-${i}`;
  out.runs.push({
    id,
    project_id: spec.projectId,
    experiment_id: exp.id,
    name,
    status,
    start_time: startTime,
    end_time: endTime,
    created_by: spec.actorId,
    code_version: pick(rand, commits),
    parent_run_id: null,
  });
  for (let p = 0; p < spec.params; p++) out.params.push({ run_id: id, key: `p${p}`, value: `v${Math.floor(rand() * 10)}` });
  for (const [key, values] of Object.entries(tagValues)) out.run_tags.push({ run_id: id, key, value: pick(rand, values) });
  const metricKeys: string[] = [];
  for (let m = 0; m < spec.metrics; m++) {
    const point = { run_id: id, key: `m${m}`, value: rand(), step: 0, timestamp: endTime - 1000 };
    out.metrics.push(point);
    out.latest_metrics.push({ ...point });
    metricKeys.push(point.key);
  }
  const audit = (at: number, action: string, before: unknown, after: unknown) =>
    out.audit_events.push({
      id: newId('audit'),
      at,
      actor: spec.actorId,
      action,
      resource_type: 'run',
      resource_id: id,
      project_id: spec.projectId,
      before: before === null ? null : JSON.stringify(before),
      after: JSON.stringify(after),
    });
  audit(startTime, 'run.create', null, { experiment: exp.name, name, params: spec.params });
  audit(endTime - 1000, 'run.log', null, { metrics: spec.metrics, metricKeys: metricKeys.slice(0, 20), params: [], tags: [] });
  audit(endTime, 'run.update', { status: 'RUNNING' }, { status, endTime });
  return id;
}

/**
 * Writes `spec.runs` runs straight into the database in batched multi-row inserts, one
 * transaction per chunk of runs: HTTP would take hours for 1.6 million rows.
 */
export async function seedRuns(
  db: Kysely<Database>,
  dialect: SqlDialectName,
  spec: SeedSpec,
  progress: (done: number) => void,
): Promise<string[]> {
  // Bound parameters per statement: SQLite allows 32,766, Postgres 65,535.
  const maxVars = dialect === 'sqlite' ? 30_000 : 60_000;
  const rand = prng(42);
  const now = Date.now();
  const ids: string[] = [];
  const chunk = 500;
  for (let start = 0; start < spec.runs; start += chunk) {
    const rows: Rows = { runs: [], params: [], metrics: [], latest_metrics: [], run_tags: [], audit_events: [] };
    for (let i = start; i < Math.min(spec.runs, start + chunk); i++) ids.push(runRows(spec, i, now, rand, rows));
    await db.transaction().execute(async (trx) => {
      for (const table of Object.keys(rows) as (keyof Rows)[]) {
        const all = rows[table];
        const first = all[0];
        if (!first) continue;
        const per = Math.max(1, Math.floor(maxVars / Object.keys(first).length));
        for (let k = 0; k < all.length; k += per) {
          await trx
            .insertInto(table)
            .values(all.slice(k, k + per) as never)
            .execute();
        }
      }
    });
    progress(ids.length);
  }
  return ids;
}
