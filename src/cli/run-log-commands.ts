import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { RunStatus } from '../tracking/index.ts';
import { type Pair, parseMetricPoint, parsePair, repeatable, toRecord } from './cli-parsers.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { printResult } from './output.ts';

interface StartOpts {
  experiment: string;
  name?: string;
  param?: Pair[];
  tag?: Pair[];
  codeVersion?: string;
}

interface LogOpts {
  metric?: { key: string; value: number; step: number }[];
  param?: Pair[];
  tag?: Pair[];
}

// Listed here rather than imported: importing the tracking module would load its SQL stores on every CLI start.
const endStatuses: RunStatus[] = ['FINISHED', 'FAILED', 'KILLED'];

const pairOption = (flag: string, what: string) => [flag, `${what} (repeatable)`, repeatable(parsePair)] as const;

/**
 * `keel runs start|log|artifact|end`: run logging for training scripts that are not
 * TypeScript (shell, Python, R). `start` prints only the run id so `RUN=$(keel runs start …)` works.
 */
export function registerRunLogCommands(runs: Command): void {
  runs
    .command('start')
    .description('start a run and print its id (the experiment is created when new)')
    .requiredOption('--experiment <name>', 'experiment name')
    .option('--name <name>', 'run name')
    .option(...pairOption('--param <k=v>', 'a parameter'))
    .option(...pairOption('--tag <k=v>', 'a tag'))
    .option('--code-version <commit>', 'code version (default: git HEAD of the working directory, if any)')
    .action(async (opts: StartOpts, cmd: Command) => {
      const run = await clientOf(cmd).startRun({
        experiment: opts.experiment,
        ...(opts.name ? { name: opts.name } : {}),
        params: toRecord(opts.param),
        tags: toRecord(opts.tag),
        ...(opts.codeVersion ? { codeVersion: opts.codeVersion } : {}),
      });
      if (wantsJson(cmd)) return printResult({ json: true }, run.info);
      process.stdout.write(`${run.id}\n`);
    });

  runs
    .command('log <runId>')
    .description('log metrics, params and tags to a run in one atomic batch')
    .option('--metric <k=v[@step]>', 'a metric point; step defaults to 0 (repeatable)', repeatable(parseMetricPoint))
    .option(...pairOption('--param <k=v>', 'a parameter'))
    .option(...pairOption('--tag <k=v>', 'a tag'))
    .action(async (runId: string, opts: LogOpts, cmd: Command) => {
      if (!opts.metric && !opts.param && !opts.tag) throw usageError('nothing to log: give --metric, --param or --tag');
      const now = Date.now();
      const batch = {
        metrics: (opts.metric ?? []).map((m) => ({ ...m, timestamp: now })),
        params: opts.param ?? [],
        tags: opts.tag ?? [],
      };
      await clientOf(cmd).logBatch(runId, batch);
      const counts = { metrics: batch.metrics.length, params: batch.params.length, tags: batch.tags.length };
      if (wantsJson(cmd)) return printResult({ json: true }, { runId, logged: counts });
      process.stdout.write(`Logged ${counts.metrics} metrics, ${counts.params} params, ${counts.tags} tags to ${runId}.\n`);
    });

  runs
    .command('artifact <runId> <file>')
    .description('upload a local file as a run artifact')
    .option('--path <path>', 'artifact path inside the run (default: the file name)')
    .action(async (runId: string, file: string, opts: { path?: string }, cmd: Command) => {
      if (!existsSync(file)) throw usageError(`no such file: ${file}`);
      const artifact = await clientOf(cmd).uploadArtifact(runId, file, opts.path);
      if (wantsJson(cmd)) return printResult({ json: true }, artifact);
      process.stdout.write(`Uploaded ${artifact.path} (${artifact.size} bytes, ${artifact.digest}) to ${runId}.\n`);
    });

  runs
    .command('end <runId>')
    .description('end a run')
    .addOption(new Option('--status <status>', 'final status').choices(endStatuses).default('FINISHED'))
    .action(async (runId: string, opts: { status: RunStatus }, cmd: Command) => {
      const run = await clientOf(cmd).endRun(runId, opts.status);
      if (wantsJson(cmd)) return printResult({ json: true }, run);
      process.stdout.write(`Run ${run.id} is ${run.status}.\n`);
    });
}
