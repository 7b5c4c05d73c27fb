import type { Command } from 'commander';
import { parsePositiveInt, parseTime } from './cli-parsers.ts';
import { clientOf, wantsJson } from './context.ts';
import { formatTime, note, printResult } from './output.ts';

interface AuditOpts {
  actor?: string;
  resource?: string;
  resourceType?: string;
  action?: string;
  since?: number;
  until?: number;
  limit?: number;
  pageToken?: string;
}

/** Before/after snapshots can be large; the table shows their start and --json has them whole. */
function brief(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** `keel audit`: who changed what, newest first. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('read the audit log, newest first')
    .option('--actor <keyId>', 'only this actor (key id, e.g. key_…)')
    .option('--resource <id>', 'only this resource id')
    .option('--resource-type <type>', 'only this resource type (model, run, api_key, …)')
    .option('--action <action>', 'only this action (e.g. model.alias.move)')
    .option('--since <time>', 'from this time (ISO-8601 or epoch ms)', parseTime)
    .option('--until <time>', 'up to this time (ISO-8601 or epoch ms)', parseTime)
    .option('--limit <n>', 'at most n events (default 100, max 1000)', parsePositiveInt)
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (opts: AuditOpts, cmd: Command) => {
      const res = await clientOf(cmd).audit(opts);
      const json = wantsJson(cmd);
      printResult({ json }, res, {
        head: ['time', 'actor', 'action', 'resource type', 'resource', 'before', 'after'],
        rows: res.events.map((e) => [
          formatTime(e.at as number),
          e.actor,
          e.action,
          e.resourceType,
          e.resourceId,
          brief(e.before),
          brief(e.after),
        ]),
      });
      if (res.nextPageToken) note({ json }, `more events: --page-token ${res.nextPageToken}`);
    });
}
