import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AppError } from '../core/index.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { printDetails, printResult } from './output.ts';

/** `--data` is inline JSON (a record or an array of records), or @file.json. */
async function parseData(data: string): Promise<Record<string, unknown> | Record<string, unknown>[]> {
  const text = data.startsWith('@') ? await readFile(data.slice(1), 'utf8').catch(() => null) : data;
  if (text === null) throw new AppError('NOT_FOUND', `no such file: ${data.slice(1)}`);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown> | Record<string, unknown>[];
  } catch {
    // fall through
  }
  throw usageError('--data takes a JSON object or array (inline, or @file.json)');
}

/** `keel predict`, `keel logs query`, `keel replay`. */
export function registerServingCommands(program: Command): void {
  program
    .command('predict <deployment>')
    .description('predictions from a deployment for one record or a batch (entity keys and request fields)')
    .requiredOption('--data <json|@file>', 'a record or an array of records, inline JSON or @file.json')
    .option('--timeout <ms>', 'deadline for this request')
    .action(async (deployment: string, opts: { data: string; timeout?: string }, cmd: Command) => {
      const res = await clientOf(cmd).predict(
        deployment,
        await parseData(opts.data),
        opts.timeout ? { timeout: Number(opts.timeout) } : {},
      );
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['#', 'prediction', 'probability', 'degraded'],
        rows: res.predictions.map((p, i) => [
          i,
          JSON.stringify(p),
          res.probabilities ? String(res.probabilities[i]) : '',
          res.degraded,
        ]),
      });
      if (!wantsJson(cmd)) process.stderr.write(`request ${res.request_id} · ${res.model.name} v${res.model.version}\n`);
    });
  const logs = program.command('logs').description('the inference log');
  logs
    .command('query <sql>')
    .description('a read-only DuckDB query over the inference log (table inference_log); admin keys')
    .option('--max-rows <n>', 'at most this many rows', '1000')
    .action(async (sql: string, opts: { maxRows: string }, cmd: Command) => {
      const res = await clientOf(cmd).queryInferenceLog(sql, Number(opts.maxRows));
      printResult({ json: wantsJson(cmd) }, res, {
        head: res.columns,
        rows: res.rows.map((r) => res.columns.map((c) => (typeof r[c] === 'object' ? JSON.stringify(r[c]) : (r[c] as string)))),
      });
      if (res.truncated && !wantsJson(cmd)) process.stderr.write('(truncated: raise --max-rows)\n');
    });
  program
    .command('replay <requestId>')
    .description('recompute a logged prediction from its record; exits 1 when it does not match exactly')
    .action(async (requestId: string, _o, cmd: Command) => {
      const res = await clientOf(cmd).replayPrediction(requestId);
      printDetails({ json: wantsJson(cmd) }, res, [
        ['request', res.request_id],
        ['model', `${res.model.name} v${res.model.version}`],
        ['matches', res.matches],
        ['recorded', JSON.stringify(res.recorded)],
        ['recomputed', JSON.stringify(res.recomputed)],
      ]);
      if (!res.matches) process.exitCode = 1;
    });
}
