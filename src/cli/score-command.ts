import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import type { KeelClient } from '../client/index.ts';
import { AppError } from '../core/index.ts';
import { createAnalyticsEngine, sqlIdent, sqlString } from '../storage/index.ts';
import { clientOf, wantsJson } from './context.ts';
import { ColumnType, type PendingRow, type RowOutcome, scoreRows } from './score-rows.ts';

const requestRows = 500;
const inFlight = 2;
/** Failed rows listed in the summary and in a stop's error; the rest are in the output's `error` column. */
const listedErrors = 20;
/** Columns the output adds; an input that has one already would end up with two of that name. */
const added = ['prediction', 'probability', 'error'];

export interface ScoreOptions {
  json: boolean;
  /** Failed rows tolerated; one more stops the job (exit 2) and nothing is written. */
  maxErrors: number;
}

export interface ScoreSummary {
  /** Rows in the input; every one is in the output, scored or with its error. */
  rows: number;
  scored: number;
  failed: number;
  degraded: number;
  /** Requests sent again after a transient failure (503, 429, a timeout, a reset connection). */
  retries: number;
  /** The first failed rows (0-based file row numbers), by row. */
  errors: { row: number; code: string; message: string }[];
  output: string;
}

/**
 * `keel score`: batch scoring through the deployment's own predict path (same features, same
 * model, same log), streamed: rows are read from Parquet in chunks, sent in requests of 500, and
 * the answers written to a temporary JSON-lines file that DuckDB joins back onto the input.
 * A bad row gets an `error` instead of failing the job; the output appears, by rename, only
 * when the job completes.
 */
async function score(client: KeelClient, deployment: string, input: string, output: string, opts: ScoreOptions) {
  const engine = await createAnalyticsEngine({ threads: 2 });
  const dir = await mkdtemp(join(tmpdir(), 'keel-score-'));
  const answers = join(dir, 'answers.jsonl');
  const target = resolve(output);
  // Same directory as the output so the final rename is atomic (and never crosses filesystems).
  const staging = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  const out = createWriteStream(answers);
  // Ctrl-C (or a TERM from a scheduler) stops the job the way an error does: requests out are
  // awaited, nothing is written at --output and the partial files go. A second Ctrl-C, with no
  // listener left, exits at once.
  let interrupted: string | null = null;
  const onSignal = (signal: string) => {
    interrupted ??= signal;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const checkInterrupted = () => {
    if (interrupted) throw new AppError('CLIENT_CLOSED', `interrupted (${interrupted}); ${output} was not written`);
  };
  // A failed write (a full disk) must stop the job and clean up, not crash the process.
  let outError: Error | null = null;
  out.on('error', (e) => {
    outError ??= e;
  });
  const closeOut = () => new Promise<void>((r, j) => (out.closed ? r() : out.end((e?: Error | null) => (e ? j(e) : r()))));
  const bar = opts.json
    ? null
    : new SingleBar({
        format: ' scoring [{bar}] {value}/{total} rows · {failed} failed · {eta_formatted} left',
        hideCursor: true,
      });
  try {
    const source = `read_parquet(${sqlString(resolve(input))})`;
    let columns: { column_name: string; column_type: string }[];
    try {
      columns = await engine.all(`DESCRIBE SELECT * FROM ${source}`);
    } catch (e) {
      throw new AppError('VALIDATION_FAILED', `cannot read ${input}: ${(e as Error).message.split('\n')[0]}`);
    }
    const clash = columns.find((c) => added.includes(c.column_name.toLowerCase()));
    if (clash) {
      throw new AppError(
        'VALIDATION_FAILED',
        `${input} already has a column '${clash.column_name}', which the output adds (${added.join(', ')}); rename or drop it first`,
      );
    }
    // Times travel as ISO strings in UTC, as the predict API takes them.
    const fields = columns.map(({ column_name: c, column_type: t }) =>
      t.startsWith('TIMESTAMP') ? `strftime(${sqlIdent(c)}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${sqlIdent(c)}` : sqlIdent(c),
    );
    const [{ n } = { n: 0 }] = await engine.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${source}`);

    const summary: ScoreSummary = { rows: n, scored: 0, failed: 0, degraded: 0, retries: 0, errors: [], output: target };
    const types = { prediction: new ColumnType(), probability: new ColumnType() };
    let tooMany: AppError | null = null;
    // A failure about the job (auth, a missing deployment, retries exhausted), kept to rethrow once in-flight requests end.
    let fatal: { error: unknown } | null = null;
    const record = (o: RowOutcome) => {
      if ('error' in o) {
        summary.failed++;
        if (summary.errors.length < listedErrors) summary.errors.push({ row: o.row, ...o.error });
        out.write(`${JSON.stringify({ __row: o.row, prediction: null, probability: null, error: o.error })}\n`);
        if (summary.failed > opts.maxErrors && !tooMany) tooMany = stopped(summary, opts.maxErrors, output);
      } else {
        summary.scored++;
        if (o.degraded) summary.degraded++;
        types.prediction.observe(o.prediction);
        types.probability.observe(o.probability);
        out.write(`${JSON.stringify({ __row: o.row, prediction: o.prediction, probability: o.probability, error: null })}\n`);
      }
      bar?.update(summary.scored + summary.failed, { failed: summary.failed });
    };
    const scorer = {
      predict: (records: Record<string, unknown>[]) => client.predict(deployment, records),
      onOutcome: record,
      onRetry: () => void summary.retries++,
      stopped: () => tooMany !== null || fatal !== null || outError !== null || interrupted !== null,
    };

    bar?.start(n, 0, { failed: 0 });
    const running = new Set<Promise<void>>();
    await engine.withConnection(async (conn) => {
      try {
        const result = await conn.stream(`SELECT to_json(r)::VARCHAR AS j FROM (SELECT ${fields.join(', ')} FROM ${source}) r`);
        let offset = 0;
        for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
          const rows: PendingRow[] = (chunk.getColumnsObject(['j']).j ?? []).map((v) => ({
            row: offset++,
            record: JSON.parse(String(v)) as Record<string, unknown>,
          }));
          for (let i = 0; i < rows.length && !scorer.stopped(); i += requestRows) {
            const request: Promise<void> = scoreRows(rows.slice(i, i + requestRows), scorer)
              .catch((error: unknown) => {
                fatal ??= { error };
              })
              .finally(() => running.delete(request));
            running.add(request);
            // A sliding window: the next request leaves as soon as one returns, and the input is read no faster.
            while (running.size >= inFlight) await Promise.race(running);
          }
          if (scorer.stopped()) break;
        }
      } catch (error) {
        fatal ??= { error };
      } finally {
        // Requests still out write their answers when they return: the answers file must outlive them.
        await Promise.all(running);
      }
    });
    await closeOut();
    bar?.stop();
    if (outError) throw new AppError('INTERNAL', `cannot write the answers file: ${(outError as Error).message}`);
    checkInterrupted();
    if (tooMany) throw tooMany;
    if (fatal) throw (fatal as { error: unknown }).error;
    if (summary.scored + summary.failed !== n) {
      throw new AppError('INTERNAL', `${n} rows read but ${summary.scored + summary.failed} answered; nothing was written`);
    }

    const answerColumns = `{__row: 'BIGINT', prediction: '${types.prediction.sql}', probability: '${types.probability.sql}', error: 'STRUCT(code VARCHAR, message VARCHAR)'}`;
    await engine.run(`COPY (
      SELECT i.* EXCLUDE (__row), a.prediction, a.probability, a.error
      FROM (SELECT *, row_number() OVER () - 1 AS __row FROM ${source}) i
      JOIN read_json(${sqlString(answers)}, format = 'newline_delimited', columns = ${answerColumns}) a USING (__row)
      ORDER BY __row) TO ${sqlString(staging)} (FORMAT parquet)`);
    checkInterrupted();
    await rename(staging, target);
    return summary;
  } finally {
    // Each step on its own: one failing must neither skip the others nor hide the job's own error.
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar?.stop();
    await closeOut().catch(() => undefined);
    await engine.close().catch(() => undefined);
    await rm(staging, { force: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function stopped(summary: ScoreSummary, maxErrors: number, output: string): AppError {
  const first = summary.errors
    .slice(0, 3)
    .map((e) => `row ${e.row}: ${e.message}`)
    .join('; ');
  return new AppError(
    'VALIDATION_FAILED',
    `stopped after ${summary.failed} failed rows (more than --max-errors ${maxErrors}); ${output} was not written. First: ${first}`,
    { scored: summary.scored, failed: summary.failed, maxErrors, errors: summary.errors },
  );
}

function parseMaxErrors(raw: string): number {
  if (raw === 'unlimited') return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError(`expected a number of rows (0 or more) or 'unlimited', got '${raw}'`);
  return Number(raw);
}

function summaryText(res: ScoreSummary): string {
  const extra = [res.degraded ? `${res.degraded} degraded` : '', res.retries ? `${res.retries} requests retried` : ''].filter(
    Boolean,
  );
  let text = `scored ${res.scored} of ${res.rows} rows → ${res.output}${extra.length ? ` (${extra.join(', ')})` : ''}\n`;
  if (res.failed > 0) {
    text += `${res.failed === 1 ? '1 row failed and has' : `${res.failed} rows failed and have`} an error instead of a prediction (column error):\n`;
    for (const e of res.errors.slice(0, 5)) text += `  row ${e.row}: ${e.message} [${e.code}]\n`;
  }
  return text;
}

export function registerScoreCommand(program: Command): void {
  program
    .command('score')
    .description('batch scoring: every row of a Parquet file through a deployment (same features and model as online)')
    .requiredOption('--deployment <name>', 'the deployment')
    .requiredOption('--input <file.parquet>', 'rows: entity keys and request fields')
    .requiredOption('--output <file.parquet>', 'the input columns plus prediction, probability and error')
    .option(
      '--max-errors <n>',
      "failed rows tolerated (0 or more, or 'unlimited'); one more stops the job with exit 2 and writes nothing",
      parseMaxErrors,
      100,
    )
    .action(async (opts: { deployment: string; input: string; output: string; maxErrors: number }, cmd: Command) => {
      const json = wantsJson(cmd);
      const res = await score(clientOf(cmd), opts.deployment, opts.input, opts.output, { json, maxErrors: opts.maxErrors });
      if (json) process.stdout.write(`${JSON.stringify(res)}\n`);
      else process.stderr.write(summaryText(res));
    });
}
