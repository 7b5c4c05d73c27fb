import type { Command } from 'commander';
import { clientOf, wantsJson } from './context.ts';
import { formatTime, printResult } from './output.ts';

/** `keel projects` lists; `keel projects create <name>` adds one (admin). */
export function registerProjectsCommand(program: Command): void {
  const projects = program
    .command('projects')
    .description('list projects (subcommand: create)')
    .action(async (_opts: unknown, cmd: Command) => {
      const res = await clientOf(cmd).listProjects();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['name', 'id', 'description', 'created', 'by'],
        rows: res.projects.map((p) => [p.name, p.id, p.description, formatTime(p.createdAt as number), p.createdBy]),
      });
    });

  projects
    .command('create <name>')
    .description('create a project (lowercase letters, digits, _ and -)')
    .option('--description <text>', 'what the project is for')
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      const p = await clientOf(cmd).createProject(name, opts.description);
      if (wantsJson(cmd)) return printResult({ json: true }, p);
      process.stdout.write(`Created project ${name} (${String(p.id)}).\n`);
    });
}
