import type { Command } from 'commander';
import type { AliasMove } from '../registry/index.ts';
import { parsePositiveInt, parseTime } from './cli-parsers.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { formatTime, printResult } from './output.ts';

const versionText = (v: number | null): string => (v === null ? 'none' : `v${v}`);

/** One line per move, for people: when, what, who and why. */
export const describeMove = (m: AliasMove): string =>
  `${formatTime(m.at)} ${m.alias}: ${versionText(m.fromVersion)} → ${versionText(m.toVersion)} by ${m.actor}${m.reason ? ` (${m.reason})` : ''}`;

interface AliasOpts {
  delete?: boolean;
  reason?: string;
}

/** `keel models alias` moves or deletes an alias; `keel models alias-history` shows who moved it when. */
export function registerModelAliasCommands(models: Command): void {
  models
    .command('alias')
    .argument('<name>', 'model name')
    .argument('<alias>', 'alias, e.g. prod')
    .argument('[version]', 'version number to point at', parsePositiveInt)
    .description('point an alias at a version (deployer role; promotion gates may refuse), or --delete it')
    .option('--delete', 'remove the alias instead of moving it')
    .option('--reason <text>', 'why; kept in the alias history and the audit log')
    .action(async (name: string, alias: string, versionArg: number | undefined, opts: AliasOpts, cmd: Command) => {
      if (opts.delete && versionArg !== undefined) throw usageError('give a version or --delete, not both');
      if (!opts.delete && versionArg === undefined)
        throw usageError('missing version: keel models alias <name> <alias> <version>');
      const client = clientOf(cmd);
      const reason = opts.reason ? { reason: opts.reason } : {};
      const move = opts.delete
        ? await client.deleteAlias({ model: name, alias, ...reason })
        : await client.setAlias({ model: name, alias, version: versionArg as number, ...reason });
      if (wantsJson(cmd)) return printResult({ json: true }, move);
      const verb = move.toVersion === null ? 'deleted' : `now points at version ${move.toVersion}`;
      process.stdout.write(`${name}: alias ${alias} ${verb} (was ${versionText(move.fromVersion)}).\n`);
    });

  models
    .command('alias-history <name>')
    .description('every alias move; with --at, where the alias pointed at that time')
    .option('--alias <alias>', 'only this alias (required with --at)')
    .option('--at <time>', 'ISO-8601 time or epoch ms: which version the alias pointed at then', parseTime)
    .action(async (name: string, opts: { alias?: string; at?: number }, cmd: Command) => {
      const client = clientOf(cmd);
      if (opts.at !== undefined) {
        if (!opts.alias) throw usageError('--at needs --alias <alias>');
        const res = await client.aliasAt(name, opts.alias, opts.at);
        if (wantsJson(cmd)) return printResult({ json: true }, res);
        const when = formatTime(res.at);
        const lines =
          res.version === null
            ? [`${name}: alias ${res.alias} pointed at no version at ${when}.`]
            : [`${name}: alias ${res.alias} pointed at version ${res.version} at ${when}.`];
        if (res.move) lines.push(`set by move ${res.move.id}: ${describeMove(res.move)}`);
        process.stdout.write(`${lines.join('\n')}\n`);
        return;
      }
      const res = await client.aliasHistory(name, opts.alias);
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['time', 'alias', 'from', 'to', 'actor', 'reason', 'move'],
        rows: res.moves.map((m) => [
          formatTime(m.at),
          m.alias,
          versionText(m.fromVersion),
          versionText(m.toVersion),
          m.actor,
          m.reason,
          m.id,
        ]),
      });
    });
}
