import type { Kysely } from 'kysely';
import type { Database } from '../../src/storage/index.ts';
import type { BenchHttpClient } from '../lib/http-client.ts';
import { tagValues } from './seed.ts';

type RunTable = 'params' | 'metrics' | 'latest_metrics' | 'run_tags';

/** Column names with the JS type of each value, and for audit rows the action and JSON keys. */
function shape(rows: Record<string, unknown>[]): string[] {
  return rows
    .map((row) =>
      Object.entries(row)
        .filter(([col]) => !['id', 'run_id', 'resource_id', 'seq'].includes(col))
        .map(([col, v]) => {
          if (col === 'action') return `action=${v}`;
          if ((col === 'before' || col === 'after') && typeof v === 'string') return `${col}{${Object.keys(JSON.parse(v))}}`;
          return `${col}:${v === null ? 'null' : typeof v}`;
        })
        .join(' '),
    )
    .sort();
}

/**
 * Writes one run through the HTTP API with the shape the seeder uses, then checks that every
 * table holds the same rows (count, columns, value types, audit actions) for it as for a
 * seeded run. A drift between the seeder and the API fails the benchmark instead of skewing it.
 */
export async function checkSeedMatchesApi(
  db: Kysely<Database>,
  client: BenchHttpClient,
  seededRunId: string,
  sizes: { metrics: number; params: number },
): Promise<void> {
  const t = Date.now() - 3_600_000;
  const body = {
    experiment: 'bench-seed-check',
    name: 'seed-check',
    params: Array.from({ length: sizes.params }, (_, p) => ({ key: `p${p}`, value: 'v1' })),
    tags: Object.entries(tagValues).map(([key, values]) => ({ key, value: values[0] })),
    codeVersion: 'c'.repeat(40),
    startTime: t,
  };
  const run = JSON.parse((await client.expect('POST', '/api/v1/runs', JSON.stringify(body), 201)).toString()) as { id: string };
  const metrics = Array.from({ length: sizes.metrics }, (_, m) => ({ key: `m${m}`, value: 0.5, step: 0, timestamp: t + 1000 }));
  await client.expect('POST', `/api/v1/runs/${run.id}/log`, JSON.stringify({ metrics }), 204);
  await client.expect('PATCH', `/api/v1/runs/${run.id}`, JSON.stringify({ status: 'FINISHED', endTime: t + 2000 }), 200);

  const problems: string[] = [];
  const compare = (what: string, api: Record<string, unknown>[], seeded: Record<string, unknown>[]) => {
    const a = shape(api).join('\n');
    const s = shape(seeded).join('\n');
    if (a !== s) problems.push(`${what}: API wrote\n${a}\nseeder wrote\n${s}`);
  };
  const byRun = (id: string) => db.selectFrom('runs').selectAll().where('id', '=', id).execute();
  compare('runs', await byRun(run.id), await byRun(seededRunId));
  for (const table of ['params', 'metrics', 'latest_metrics', 'run_tags'] as RunTable[]) {
    const rows = (id: string) => db.selectFrom(table).selectAll().where('run_id', '=', id).execute();
    compare(table, await rows(run.id), await rows(seededRunId));
  }
  const audit = (id: string) => db.selectFrom('audit_events').selectAll().where('resource_id', '=', id).execute();
  compare('audit_events', await audit(run.id), await audit(seededRunId));
  if (problems.length) throw new Error(`seeded rows differ from what the API writes:\n${problems.join('\n\n')}`);
}
