import type { Command } from 'commander';
import type { KeelClient } from '../client/index.ts';
import type { RunWithData } from '../tracking/index.ts';
import { parseList, parsePositiveInt, repeatable } from './cli-parsers.ts';
import { clientOf, wantsJson } from './context.ts';
import {
  formatNumber,
  formatPairs,
  formatTime,
  note,
  printDetails,
  printResult,
  renderSection,
  type TableSpec,
} from './output.ts';
import { registerRunLogCommands } from './run-log-commands.ts';

const runsTable = (runs: RunWithData[]): TableSpec => ({
  head: ['id', 'name', 'experiment', 'status', 'started', 'metrics', 'params'],
  rows: runs.map((r) => [
    r.id,
    r.name,
    r.experimentId,
    r.status,
    formatTime(r.startTime),
    formatPairs(r.metrics),
    formatPairs(r.params),
  ]),
});

/** Experiment ids pass through; names are looked up so people can type what they named things. */
async function experimentIds(client: KeelClient, refs: string[] | undefined): Promise<string[] | undefined> {
  if (!refs || refs.every((r) => r.startsWith('exp_'))) return refs;
  const { experiments } = await client.listExperiments();
  return refs.map((r) => experiments.find((e) => e.name === r)?.id ?? r);
}

const flat = (lists: string[][] | undefined): string[] | undefined => lists?.flat();

interface SearchOpts {
  filter?: string;
  orderBy?: string[];
  max?: number;
  pageToken?: string;
  all?: boolean;
  experiment?: string[][];
}

/** `keel runs …`: list, inspect and search runs, plus the logging commands for scripts. */
export function registerRunsCommand(program: Command): void {
  const runs = program.command('runs').description('list, show, search and log runs');

  runs
    .command('list')
    .description('list runs in the project, newest first')
    .option('--experiment <ids>', 'only these experiments (ids or names, comma-separated or repeated)', repeatable(parseList))
    .option('--limit <n>', 'at most n runs (default 100, max 1000)', parsePositiveInt)
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (opts: { experiment?: string[][]; limit?: number; pageToken?: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const experiment = await experimentIds(client, flat(opts.experiment));
      const res = await client.listRuns({
        ...(experiment ? { experiment } : {}),
        ...(opts.limit ? { limit: opts.limit } : {}),
        ...(opts.pageToken ? { pageToken: opts.pageToken } : {}),
      });
      printResult({ json: wantsJson(cmd) }, res, runsTable(res.runs));
      if (res.nextPageToken) note({ json: wantsJson(cmd) }, `more runs: --page-token ${res.nextPageToken}`);
    });

  runs
    .command('show <id>')
    .description('a run with its params, latest metrics, tags, inputs and artifacts')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const client = clientOf(cmd);
      const [run, { artifacts }] = await Promise.all([client.getRun(id), client.listArtifacts(id)]);
      const kv = (pairs: { key: string; value: string }[]) => ({
        head: ['key', 'value'],
        rows: pairs.map((p) => [p.key, p.value]),
      });
      printDetails(
        { json: wantsJson(cmd) },
        { ...run, artifacts },
        [
          ['run', run.id],
          ['name', run.name],
          ['experiment', run.experimentId],
          ['status', run.status],
          ['started', formatTime(run.startTime)],
          ['ended', formatTime(run.endTime)],
          ['created by', run.createdBy],
          ['code version', run.codeVersion],
          ['parent run', run.parentRunId],
        ],
        [
          renderSection('params', kv(run.params)),
          renderSection('metrics (latest)', {
            head: ['key', 'value', 'step', 'time'],
            rows: run.metrics.map((m) => [m.key, formatNumber(m.value), m.step, formatTime(m.timestamp)]),
          }),
          renderSection('tags', kv(run.tags)),
          renderSection('inputs', {
            head: ['digest', 'name', 'context'],
            rows: run.inputs.map((i) => [i.digest, i.name, i.context]),
          }),
          renderSection('artifacts', {
            head: ['path', 'size', 'digest'],
            rows: artifacts.map((a) => [a.path, a.size, a.digest]),
          }),
        ],
      );
    });

  runs
    .command('search')
    .description('search runs with an MLflow-style filter, e.g. "metrics.auc > 0.9 and params.lr = \'0.1\'"')
    .option('--filter <expr>', 'filter over metrics.*, params.*, tags.* and attributes (status, name, start_time, …)')
    .option('--order-by <key>', 'sort key, e.g. "metrics.auc DESC" (repeatable, up to 5)', repeatable(String))
    .option('--experiment <ids>', 'only these experiments (ids or names, comma-separated or repeated)', repeatable(parseList))
    .option('--max <n>', 'results per page (default 100, max 1000)', parsePositiveInt)
    .option('--page-token <token>', 'continue from a previous page')
    .option('--all', 'follow pages until the end')
    .action(async (opts: SearchOpts, cmd: Command) => {
      const client = clientOf(cmd);
      const experimentIdList = await experimentIds(client, flat(opts.experiment));
      const found: RunWithData[] = [];
      let pageToken = opts.pageToken;
      let next: string | null;
      do {
        const page = await client.searchRuns({
          ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
          ...(opts.orderBy ? { orderBy: opts.orderBy } : {}),
          ...(opts.max ? { maxResults: opts.max } : {}),
          ...(experimentIdList ? { experimentIds: experimentIdList } : {}),
          ...(pageToken ? { pageToken } : {}),
        });
        found.push(...page.runs);
        next = page.nextPageToken;
        pageToken = next ?? undefined;
      } while (opts.all && next);
      printResult({ json: wantsJson(cmd) }, { runs: found, nextPageToken: next }, runsTable(found));
      if (next) note({ json: wantsJson(cmd) }, `more runs: --page-token ${next} (or --all)`);
    });

  registerRunLogCommands(runs);
}
