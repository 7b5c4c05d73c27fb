import type { Command } from 'commander';
import { parseModelRef } from '../client/index.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { formatTime, printDetails, printResult, renderSection } from './output.ts';

const target = (spec: { model: string; ref: { alias: string } | { version: number } }) =>
  'alias' in spec.ref ? `${spec.model}@${spec.ref.alias}` : `${spec.model}@v${spec.ref.version}`;

function modelRef(text: string) {
  try {
    return parseModelRef(text);
  } catch (e) {
    throw usageError((e as Error).message);
  }
}

/** `keel deploy <name> --model m@alias|version` and `keel deployments list|show|rollback`. */
export function registerDeployCommands(program: Command): void {
  program
    .command('deploy <name>')
    .description('create a deployment, or switch it atomically to another model version or alias (blue-green)')
    .requiredOption('--model <model@ref>', 'model@alias (follows the alias) or model@version (pinned)')
    .option('--reason <text>', 'why, kept with the revision')
    .option('--timeout <ms>', 'per-request deadline of the predict path')
    .option('--sample-rate <0..1>', 'share of requests written to the inference log')
    .option('--contract <name>', 'a stored data contract every record must pass')
    .option('--cache', 'reuse predictions for identical inputs')
    .action(
      async (
        name: string,
        opts: { model: string; reason?: string; timeout?: string; sampleRate?: string; contract?: string; cache?: boolean },
        cmd: Command,
      ) => {
        const options: Record<string, unknown> = {};
        if (opts.timeout !== undefined) options.timeoutMs = Number(opts.timeout);
        if (opts.sampleRate !== undefined) options.logSampleRate = Number(opts.sampleRate);
        if (opts.contract) options.contract = opts.contract;
        if (opts.cache) options.cache = { enabled: true };
        const d = await clientOf(cmd).deployments.deploy(name, {
          ...modelRef(opts.model),
          options,
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
        printResult({ json: wantsJson(cmd) }, d, {
          head: ['deployment', 'revision', 'target', 'version'],
          rows: [[d.name, d.revision, target(d.spec), d.version ?? '']],
        });
      },
    );
  const deployments = program.command('deployments').description('deployments: list, show, rollback');
  deployments
    .command('list')
    .description('deployments of the project')
    .action(async (_o, cmd: Command) => {
      const res = await clientOf(cmd).deployments.list();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['deployment', 'revision', 'target', 'updated'],
        rows: res.deployments.map((d) => [d.name, d.revision, target(d.spec), formatTime(d.updatedAt)]),
      });
    });
  deployments
    .command('show <name>')
    .description('a deployment and its revisions')
    .action(async (name: string, _o, cmd: Command) => {
      const d = await clientOf(cmd).deployments.get(name);
      printDetails(
        { json: wantsJson(cmd) },
        d,
        [
          ['deployment', d.name],
          ['revision', d.revision],
          ['target', target(d.spec)],
          ['options', JSON.stringify(d.spec.options)],
        ],
        [
          renderSection('revisions', {
            head: ['revision', 'target', 'version', 'at', 'by', 'reason'],
            rows: (d.revisions ?? []).map((r) => [r.revision, target(r.spec), r.version ?? '', formatTime(r.at), r.by, r.reason]),
          }),
        ],
      );
    });
  deployments
    .command('rollback <name>')
    .description('serve again what was served before the last change (pinned to that version); --to picks a revision')
    .option('--to <revision>', 'the revision to return to')
    .option('--reason <text>', 'why')
    .action(async (name: string, opts: { to?: string; reason?: string }, cmd: Command) => {
      const d = await clientOf(cmd).deployments.rollback(name, {
        ...(opts.to ? { revision: Number(opts.to) } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      printResult({ json: wantsJson(cmd) }, d, {
        head: ['deployment', 'revision', 'target', 'version'],
        rows: [[d.name, d.revision, target(d.spec), d.version ?? '']],
      });
    });
}
