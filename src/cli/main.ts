import { Command, CommanderError } from 'commander';
import { KeelApiError } from '../client/index.ts';
import { AppError, exitCodeFor } from '../core/index.ts';
import { registerAuditCommand } from './audit-command.ts';
import { registerDataCommand } from './data-command.ts';
import { registerDeployCommands } from './deploy-command.ts';
import { registerExperimentsCommand } from './experiments-command.ts';
import { registerFeatureCommands } from './features-command.ts';
import { registerKeysCommand } from './keys-command.ts';
import { registerModelsCommand } from './models-command.ts';
import { registerPipelinesCommand } from './pipelines-command.ts';
import { registerProjectsCommand } from './projects-command.ts';
import { registerRunsCommand } from './runs-command.ts';
import { registerScoreCommand } from './score-command.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerServingCommands } from './serving-commands.ts';
import { registerStreamCommand } from './stream-command.ts';

// exitOverride, help settings and the error hint are set before any subcommand exists so every subcommand inherits them.
const program = new Command()
  .name('keel')
  .description('Keel: tracking, registry, features, serving and monitoring for ML models')
  .option('--url <url>', 'server URL (env KEEL_URL, default http://127.0.0.1:7878)')
  .option('--api-key <key>', 'API key (env KEEL_API_KEY)')
  .option('--project <name>', 'project (default: default)')
  .option('--json', 'print JSON only, for scripts')
  .exitOverride()
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(run with --help for usage)');

registerServeCommand(program);
registerKeysCommand(program);
registerProjectsCommand(program);
registerPipelinesCommand(program);
registerDeployCommands(program);
registerServingCommands(program);
registerScoreCommand(program);
registerStreamCommand(program);
registerExperimentsCommand(program);
registerRunsCommand(program);
registerModelsCommand(program);
registerDataCommand(program);
registerAuditCommand(program);
registerFeatureCommands(program);

/** Usage errors exit like the registry's BAD_REQUEST (2); commander has already printed the message. */
const usageExit = exitCodeFor('BAD_REQUEST');

function fail(e: unknown): never {
  // When parsing failed early the flag may not be in opts yet, so argv is checked too.
  const json = program.opts<{ json?: boolean }>().json === true || process.argv.includes('--json');
  const emit = (code: string, message: string, details?: unknown) => {
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message, details } })}\n`);
  };
  if (e instanceof CommanderError) {
    // Help that was asked for (--help, `keel help runs`) exits 0; help shown because a command
    // group was called without a subcommand carries a non-zero code and counts as bad usage.
    if (e.exitCode === 0) process.exit(0);
    const message = e.code === 'commander.help' ? 'missing subcommand' : e.message.replace(/^error: /, '');
    emit('BAD_REQUEST', message, { reason: e.code });
    process.exit(usageExit);
  }
  if (e instanceof KeelApiError || e instanceof AppError) {
    emit(e.code, e.message, e.details);
    process.stderr.write(`error: ${e.message} [${e.code}]\n`);
    process.exit(e.exitCode);
  }
  const message = (e as Error)?.message ?? String(e);
  emit('INTERNAL', message);
  process.stderr.write(`error: ${message}\n`);
  process.exit(exitCodeFor('INTERNAL'));
}

program.parseAsync(process.argv).catch(fail);
