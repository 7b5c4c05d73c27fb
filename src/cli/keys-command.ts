import type { Command } from 'commander';
import { parseDuration, parseList } from './cli-parsers.ts';
import { clientOf, wantsJson } from './context.ts';
import { formatTime, printResult } from './output.ts';

const roleNames = ['viewer', 'scientist', 'deployer', 'admin', 'predictor'];

interface CreateOpts {
  role: string;
  projects?: string[];
  name?: string;
  expiresIn?: number;
}

/** `keel keys create|list|revoke`: API keys (admin role). */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('manage API keys (admin)');

  keys
    .command('create')
    .description('create an API key; its secret is printed once and never again')
    .requiredOption('--role <role>', `one of ${roleNames.join(', ')}`)
    .option('--projects <list>', 'comma-separated project names, or * for all (default: --project)', parseList)
    .option('--name <name>', 'a label to recognise the key by')
    .option('--expires-in <duration>', 'lifetime, e.g. 30d, 12h, 15m or 3600s (default: never)', parseDuration)
    .action(async (opts: CreateOpts, cmd: Command) => {
      const client = clientOf(cmd);
      const created = await client.createKey({
        role: opts.role,
        projects: opts.projects ?? [client.project],
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.expiresIn ? { expiresInSeconds: opts.expiresIn } : {}),
      });
      if (wantsJson(cmd)) return printResult({ json: true }, created);
      const expiry = created.expiresAt === null ? 'never expires' : `expires ${formatTime(created.expiresAt)}`;
      process.stdout.write(
        [
          `Created key ${created.id} (role ${created.role}, projects ${created.projects.join(',')}, ${expiry}).`,
          '',
          'Secret (shown only this once; store it now):',
          '',
          `  ${created.key}`,
          '',
        ].join('\n'),
      );
    });

  keys
    .command('list')
    .description('list API keys (never their secrets)')
    .action(async (_opts: unknown, cmd: Command) => {
      const res = await clientOf(cmd).listKeys();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['id', 'name', 'role', 'projects', 'status', 'created', 'expires', 'revoked'],
        rows: res.keys.map((k) => [
          k.id,
          k.name,
          k.role,
          Array.isArray(k.projects) ? k.projects.join(',') : k.projects,
          k.status,
          formatTime(k.createdAt as number),
          formatTime(k.expiresAt as number | null),
          formatTime(k.revokedAt as number | null),
        ]),
      });
    });

  keys
    .command('revoke <id>')
    .description('revoke an API key; it stops working at once')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const res = await clientOf(cmd).revokeKey(id);
      if (wantsJson(cmd)) return printResult({ json: true }, res);
      process.stdout.write(`Revoked key ${id}.\n`);
    });
}
