import type { Command } from 'commander';
import { clientOf, wantsJson } from './context.ts';
import { formatTime, printResult } from './output.ts';

/** `keel experiments` lists the project's experiments; `keel experiments create <name>` adds one. */
export function registerExperimentsCommand(program: Command): void {
  const experiments = program
    .command('experiments')
    .description('list experiments in the project (subcommand: create)')
    .action(async (_opts: unknown, cmd: Command) => {
      const res = await clientOf(cmd).listExperiments();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['id', 'name', 'description', 'created', 'by'],
        rows: res.experiments.map((e) => [e.id, e.name, e.description, formatTime(e.createdAt), e.createdBy]),
      });
    });

  experiments
    .command('create <name>')
    .description('create an experiment (runs started with a new name create one too)')
    .option('--description <text>', 'what the experiment is about')
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      const e = await clientOf(cmd).createExperiment(name, opts.description);
      if (wantsJson(cmd)) return printResult({ json: true }, e);
      process.stdout.write(`Created experiment ${e.name} (${e.id}).\n`);
    });
}
