import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { KeelClient } from '../client/index.ts';
import { AppError } from '../core/index.ts';
import { createAnalyticsEngine, sqlIdent, sqlString } from '../storage/index.ts';
import { clientOf, wantsJson } from './context.ts';

const requestRows = 500;
const inFlight = 2;

/**
 * `keel score`: batch scoring through the deployment's own predict path (same features, same
 * model, same log), streamed: rows are read from Parquet in chunks, sent in requests of 500, and
 * the answers written to a temporary JSON-lines file that DuckDB joins back onto the input.
 */
async function score(client: KeelClient, deployment: string, input: string, output: string, json: boolean) {
  const engine = await createAnalyticsEngine({ threads: 2 });
  const dir = await mkdtemp(join(tmpdir(), 'keel-score-'));
  const answers = join(dir, 'answers.jsonl');
  try {
    const source = `read_parquet(${sqlString(resolve(input))})`;
    let columns: { column_name: string; column_type: string }[];
    try {
      columns = await engine.all(`DESCRIBE SELECT * FROM ${source}`);
    } catch (e) {
      throw new AppError('VALIDATION_FAILED', `cannot read ${input}: ${(e as Error).message.split('\n')[0]}`);
    }
    // Times travel as ISO strings in UTC, as the predict API takes them.
    const fields = columns.map(({ column_name: c, column_type: t }) =>
      t.startsWith('TIMESTAMP') ? `strftime(${sqlIdent(c)}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${sqlIdent(c)}` : sqlIdent(c),
    );
    const [{ n } = { n: 0 }] = await engine.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${source}`);
    const bar = json
      ? null
      : new SingleBar({ format: ' scoring [{bar}] {value}/{total} rows · {eta_formatted} left', hideCursor: true });
    bar?.start(n, 0);
    const out = createWriteStream(answers);
    let done = 0;
    let degraded = 0;
    await engine.withConnection(async (conn) => {
      const result = await conn.stream(`SELECT to_json(r)::VARCHAR AS j FROM (SELECT ${fields.join(', ')} FROM ${source}) r`);
      let pending: Promise<void>[] = [];
      let offset = 0;
      for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
        const rows = (chunk.getColumnsObject(['j']).j ?? []).map((v) => JSON.parse(String(v)) as Record<string, unknown>);
        for (let i = 0; i < rows.length; i += requestRows) {
          const records = rows.slice(i, i + requestRows);
          const first = offset;
          offset += records.length;
          pending.push(
            client.predict(deployment, records).then((res) => {
              res.predictions.forEach((p, k) => {
                out.write(
                  `${JSON.stringify({ __row: first + k, prediction: p, probability: res.probabilities?.[k] ?? null })}\n`,
                );
              });
              if (res.degraded) degraded += records.length;
              done += records.length;
              bar?.update(done);
            }),
          );
          if (pending.length >= inFlight) {
            await Promise.all(pending);
            pending = [];
          }
        }
      }
      await Promise.all(pending);
    });
    await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
    bar?.stop();
    await engine.run(`COPY (
      SELECT i.* EXCLUDE (__row), a.prediction, a.probability
      FROM (SELECT *, row_number() OVER () - 1 AS __row FROM ${source}) i
      JOIN read_json(${sqlString(answers)}, columns = {__row: 'BIGINT', prediction: 'DOUBLE', probability: 'DOUBLE'}) a USING (__row)
      ORDER BY __row) TO ${sqlString(resolve(output))} (FORMAT parquet)`);
    return { rows: done, degraded, output: resolve(output) };
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function registerScoreCommand(program: Command): void {
  program
    .command('score')
    .description('batch scoring: every row of a Parquet file through a deployment (same features and model as online)')
    .requiredOption('--deployment <name>', 'the deployment')
    .requiredOption('--input <file.parquet>', 'rows: entity keys and request fields')
    .requiredOption('--output <file.parquet>', 'the input columns plus prediction and probability')
    .action(async (opts: { deployment: string; input: string; output: string }, cmd: Command) => {
      const res = await score(clientOf(cmd), opts.deployment, opts.input, opts.output, wantsJson(cmd));
      if (wantsJson(cmd)) process.stdout.write(`${JSON.stringify(res)}\n`);
      else process.stderr.write(`scored ${res.rows} rows → ${res.output}${res.degraded ? ` (${res.degraded} degraded)` : ''}\n`);
    });
}
