import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import type { KeelClient, PipelineRunView } from '../client/index.ts';
import { AppError } from '../core/index.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { formatTime, printDetails, printResult, renderSection } from './output.ts';

/**
 * Reads a pipeline file: YAML or JSON, or TypeScript/JavaScript exporting the same object (as
 * `default` or `pipeline`). The server validates it. Relative paths resolve from its folder.
 */
async function readPipelineFile(file: string): Promise<{ spec: unknown; baseDir: string }> {
  if (/\.(ts|mts|js|mjs)$/.test(file)) {
    let mod: { default?: unknown; pipeline?: unknown };
    try {
      mod = (await import(pathToFileURL(resolve(file)).href)) as typeof mod;
    } catch (e) {
      throw new AppError('VALIDATION_FAILED', `${file}: cannot load: ${(e as Error).message.split('\n')[0]}`);
    }
    return { spec: mod.default ?? mod.pipeline, baseDir: dirname(resolve(file)) };
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new AppError('NOT_FOUND', `no such file: ${file}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new AppError('VALIDATION_FAILED', `${file}: malformed YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
  return { spec: doc.toJS(), baseDir: dirname(resolve(file)) };
}

function parseParams(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw usageError(`--param takes key=value, got '${p}'`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

const mark: Record<string, string> = {
  succeeded: '✓',
  cached: '✓',
  failed: '✗',
  cancelled: '-',
  skipped: '-',
  running: '…',
  pending: ' ',
};

/** One line per step state change, on stderr, so stdout stays clean for --json. */
function progressPrinter(): (run: PipelineRunView) => void {
  const seen = new Map<string, string>();
  return (run) => {
    for (const s of run.steps) {
      const state = `${s.status}:${s.attempts}`;
      if (seen.get(s.step) === state || s.status === 'pending') continue;
      seen.set(s.step, state);
      const extra =
        s.status === 'cached' ? ' (cache hit)' : s.status === 'running' && s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
      process.stderr.write(`  ${mark[s.status] ?? '?'} ${s.step} ${s.status}${extra}\n`);
    }
  };
}

function stepTable(run: PipelineRunView, explain: boolean) {
  return {
    head: ['step', 'status', 'attempts', 'took', explain ? 'why' : 'error'],
    rows: run.steps.map((s) => [
      s.step,
      s.status,
      s.attempts,
      s.startedAt && s.finishedAt ? `${((s.finishedAt - s.startedAt) / 1000).toFixed(1)} s` : '',
      (explain ? s.explain : s.error) ?? '',
    ]),
  };
}

async function finish(cmd: Command, client: KeelClient, run: PipelineRunView, opts: { wait: boolean; explain?: boolean }) {
  const json = wantsJson(cmd);
  if (!opts.wait) {
    printResult({ json }, run, stepTable(run, false));
    return;
  }
  if (!json) process.stderr.write(`run ${run.id} (${run.pipeline}@${run.version})\n`);
  const done = await client.pipelines.wait(run.id, json ? {} : { onUpdate: progressPrinter() });
  printDetails(
    { json },
    done,
    [
      ['run', done.id],
      ['pipeline', `${done.pipeline}@${done.version}`],
      ['status', done.status],
      ['tracking run', done.trackingRunId],
      ['error', done.error],
    ],
    [renderSection('steps', stepTable(done, opts.explain ?? false))],
  );
  if (done.status !== 'succeeded')
    throw new AppError('PIPELINE_FAILED', `pipeline run ${done.id} ${done.status}: ${done.error ?? ''}`);
}

export function registerPipelinesCommand(program: Command): void {
  const p = program.command('pipelines').description('pipelines: apply, run, resume, cancel, inspect');
  p.command('apply')
    .description('store a pipeline definition (a new version when it changed)')
    .requiredOption('-f, --file <path>', 'pipeline file: YAML, JSON, or TypeScript exporting the spec')
    .action(async (opts: { file: string }, cmd: Command) => {
      const { spec, baseDir } = await readPipelineFile(opts.file);
      const res = await clientOf(cmd).pipelines.apply(spec, baseDir);
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['pipeline', 'version', 'changed', 'steps'],
        rows: [
          [res.definition.name, res.definition.version, res.changed, res.definition.spec.steps.map((s) => s.name).join(' → ')],
        ],
      });
    });
  p.command('list')
    .description('pipelines of the project')
    .action(async (_o, cmd: Command) => {
      const res = await clientOf(cmd).pipelines.list();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['pipeline', 'version', 'steps', 'applied'],
        rows: res.pipelines.map((d) => [d.name, d.version, d.spec.steps.length, formatTime(d.createdAt)]),
      });
    });
  p.command('run <name>')
    .description('run a pipeline (give -f to apply the file first) and follow it until it ends')
    .option('-f, --file <path>', 'apply this pipeline file first')
    .option('-p, --param <key=value...>', 'override a pipeline param')
    .option('--explain', 'say why each step hit or missed the cache')
    .option('--no-wait', 'return once the run has started')
    .action(async (name: string, opts: { file?: string; param?: string[]; explain?: boolean; wait: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      if (opts.file) {
        const { spec, baseDir } = await readPipelineFile(opts.file);
        const applied = await client.pipelines.apply(spec, baseDir);
        if (applied.definition.name !== name)
          throw usageError(`${opts.file} defines pipeline '${applied.definition.name}', not '${name}'`);
      }
      const run = await client.pipelines.run(name, { params: parseParams(opts.param) });
      await finish(cmd, client, run, opts);
    });
  p.command('resume <run>')
    .description('continue a failed, cancelled or interrupted run without redoing finished steps')
    .option('--explain', 'say why each step hit or missed the cache')
    .option('--no-wait', 'return once the run has restarted')
    .action(async (id: string, opts: { explain?: boolean; wait: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      await finish(cmd, client, await client.pipelines.resume(id), opts);
    });
  p.command('cancel <run>')
    .description('cancel a running run')
    .action(async (id: string, _o, cmd: Command) => {
      const run = await clientOf(cmd).pipelines.cancel(id);
      printResult({ json: wantsJson(cmd) }, run, stepTable(run, false));
    });
  p.command('status <run>')
    .description('a run and its steps')
    .option('--explain', 'say why each step hit or missed the cache')
    .action(async (id: string, opts: { explain?: boolean }, cmd: Command) => {
      const run = await clientOf(cmd).pipelines.getRun(id);
      printDetails(
        { json: wantsJson(cmd) },
        run,
        [
          ['run', run.id],
          ['pipeline', `${run.pipeline}@${run.version}`],
          ['status', run.status],
          ['trigger', run.trigger],
          ['started', formatTime(run.createdAt)],
          ['tracking run', run.trackingRunId],
          ['error', run.error],
        ],
        [renderSection('steps', stepTable(run, opts.explain ?? false))],
      );
    });
  p.command('runs <name>')
    .description('runs of a pipeline, newest first')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (name: string, opts: { limit: string }, cmd: Command) => {
      const res = await clientOf(cmd).pipelines.runs(name, Number(opts.limit));
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['run', 'version', 'status', 'trigger', 'started', 'error'],
        rows: res.runs.map((r) => [r.id, r.version, r.status, r.trigger, formatTime(r.createdAt), r.error ?? '']),
      });
    });
}
