import { Command } from 'commander';
import { KeelApiError } from '../client/index.ts';
import { AppError } from '../core/index.ts';
import { registerServeCommand } from './serve-command.ts';

const program = new Command()
  .name('keel')
  .description('Keel: tracking, registry, features, serving and monitoring for ML models')
  .option('--url <url>', 'server URL (env KEEL_URL, default http://127.0.0.1:7878)')
  .option('--api-key <key>', 'API key (env KEEL_API_KEY)')
  .option('--project <name>', 'project (default: default)')
  .option('--json', 'print JSON only, for scripts')
  .showHelpAfterError();

registerServeCommand(program);

function fail(e: unknown): never {
  const json = program.opts<{ json?: boolean }>().json;
  if (e instanceof KeelApiError || e instanceof AppError) {
    const body = { error: { code: e.code, message: e.message, details: e.details } };
    if (json) process.stdout.write(`${JSON.stringify(body)}\n`);
    process.stderr.write(`error: ${e.message} [${e.code}]\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`error: ${(e as Error).message ?? String(e)}\n`);
  process.exit(1);
}

program.parseAsync(process.argv).catch(fail);
