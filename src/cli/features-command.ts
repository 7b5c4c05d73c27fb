import { writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { loadDefinitions } from '../features/index.ts';
import { parseTime } from './cli-parsers.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { formatTime, printResult } from './output.ts';

/** `keel apply -f <file|dir>`: shows the plan, applies it; deletes removed objects only with --prune. */
function registerApply(program: Command): void {
  program
    .command('apply')
    .description('apply feature definitions (YAML or *.features.ts): show the plan, then apply it')
    .requiredOption('-f, --file <path>', 'definition file or directory')
    .option('--prune', 'delete applied objects that are no longer defined')
    .option('--dry-run', 'only show the plan')
    .action(async (opts: { file: string; prune?: boolean; dryRun?: boolean }, cmd: Command) => {
      const definitions = await loadDefinitions(opts.file);
      const res = await clientOf(cmd).features.apply(definitions, { prune: opts.prune ?? false, dryRun: opts.dryRun ?? false });
      const changed = res.changes.filter((c) => c.action !== 'unchanged');
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['action', 'kind', 'name', 'version'],
        rows: res.changes.map((c) => [c.action, c.kind, c.name, c.version]),
      });
      if (!wantsJson(cmd)) {
        process.stderr.write(
          res.applied
            ? `Applied ${changed.length} change(s).\n`
            : `Plan only (--dry-run): ${changed.length} change(s) would be applied.\n`,
        );
      }
    });
}

/** `keel materialize [start] [end]` or `--incremental`, with a progress bar while the server works. */
function registerMaterialize(program: Command): void {
  program
    .command('materialize [start] [end]')
    .description(
      'load feature values into the online store, from start to end (ISO or epoch ms), or --incremental from each watermark',
    )
    .option('--incremental', 'continue each view from where the last run stopped, up to end (default now)')
    .option('--view <name...>', 'only these views')
    .action(
      async (
        start: string | undefined,
        end: string | undefined,
        opts: { incremental?: boolean; view?: string[] },
        cmd: Command,
      ) => {
        if (!opts.incremental && start === undefined) throw usageError('give <start> [end], or --incremental');
        const client = clientOf(cmd).features;
        let job = await client.materialize({
          ...(opts.incremental ? { incremental: true } : { start: parseTime(start as string) }),
          ...(end !== undefined
            ? { end: parseTime(end) }
            : opts.incremental && start !== undefined
              ? { end: parseTime(start) }
              : {}),
          ...(opts.view ? { views: opts.view } : {}),
        });
        const bar =
          wantsJson(cmd) || !process.stderr.isTTY
            ? null
            : new SingleBar({ format: ' {view} [{bar}] {value}/{total} rows', hideCursor: true });
        let current = '';
        while (job.status === 'running') {
          await new Promise((r) => setTimeout(r, 250));
          job = await client.job(job.id);
          const active = job.views.find((v) => !v.done) ?? job.views.at(-1);
          if (bar && active) {
            if (active.view !== current) {
              if (current) bar.stop();
              current = active.view;
              bar.start(active.total, active.written, { view: active.view });
            }
            bar.setTotal(active.total);
            bar.update(active.written, { view: active.view });
          } else if (!wantsJson(cmd) && active) {
            // Without a terminal, one line per change keeps logs readable.
            const line = `${active.view}: ${active.written}/${active.total} rows`;
            if (line !== current) process.stderr.write(`${line}\n`);
            current = line;
          }
        }
        bar?.stop();
        printResult({ json: wantsJson(cmd) }, job, {
          head: ['view', 'rows written', 'done'],
          rows: job.views.map((v) => [v.view, v.written, v.done ? 'yes' : 'no']),
        });
        if (job.status !== 'succeeded') throw usageError(`materialization failed: ${job.error ?? 'unknown error'}`);
      },
    );
}

function registerFeatures(program: Command): void {
  const features = program.command('features').description('feature store: list, status, online, historical');
  features
    .command('list')
    .description('applied definitions and their versions')
    .action(async (_o: unknown, cmd: Command) => {
      const res = await clientOf(cmd).features.objects();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['kind', 'name', 'version', 'applied', 'deleted'],
        rows: res.objects.map((o) => [
          o.kind,
          o.name,
          o.version,
          formatTime(o.createdAt),
          o.deletedAt ? formatTime(o.deletedAt) : '',
        ]),
      });
    });
  features
    .command('status')
    .description('freshness of each view against its max_staleness')
    .action(async (_o: unknown, cmd: Command) => {
      const res = await clientOf(cmd).features.status();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['view', 'materialized up to', 'staleness', 'objective', 'stale', 'rows'],
        rows: res.views.map((v) => [
          v.view,
          formatTime(v.watermark),
          v.stalenessMs === null ? 'never' : `${Math.round(v.stalenessMs / 60000)} min`,
          v.maxStalenessMs === null ? '' : `${Math.round(v.maxStalenessMs / 60000)} min`,
          v.stale ? 'STALE' : 'ok',
          v.rowsWritten,
        ]),
      });
    });
  features
    .command('online')
    .description('read online features: --service s --entity \'{"origin":"ATL"}\' (repeatable)')
    .option('--service <name>', 'feature service')
    .option('--feature <ref...>', 'view:feature refs instead of a service')
    .requiredOption('--entity <json...>', 'entity row as JSON')
    .option('--max-age <duration>', "override the views' TTL, e.g. 1h")
    .action(async (opts: { service?: string; feature?: string[]; entity: string[]; maxAge?: string }, cmd: Command) => {
      const entities = opts.entity.map((e) => {
        try {
          return JSON.parse(e) as Record<string, unknown>;
        } catch {
          throw usageError(`--entity must be JSON, got ${e}`);
        }
      });
      const res = await clientOf(cmd).features.online({
        entities,
        ...(opts.service ? { service: opts.service } : {}),
        ...(opts.feature ? { features: opts.feature } : {}),
        ...(opts.maxAge ? { maxAge: opts.maxAge } : {}),
      });
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['entity', 'feature', 'value', 'status', 'event time'],
        rows: res.rows.flatMap((r, i) =>
          res.features.map((f, c) => [JSON.stringify(entities[i]), f, r.values[c], r.statuses[c], formatTime(r.eventTimes[c])]),
        ),
      });
    });
  features
    .command('historical')
    .description('point-in-time training data to a Parquet file, for every source row in [--start, --end]')
    .requiredOption('--service <name>', 'feature service')
    .requiredOption('--start <time>', 'ISO time or epoch ms')
    .requiredOption('--end <time>', 'ISO time or epoch ms')
    .requiredOption('-o, --output <file>', 'Parquet file to write')
    .action(async (opts: { service: string; start: string; end: string; output: string }, cmd: Command) => {
      const client = clientOf(cmd).features;
      const res = await client.historical({
        service: opts.service,
        range: { start: parseTime(opts.start), end: parseTime(opts.end) },
      });
      await writeFile(opts.output, await client.download(res.id));
      printResult(
        { json: wantsJson(cmd) },
        { ...res, output: opts.output },
        {
          head: ['rows', 'columns', 'feature service', 'file'],
          rows: [[res.rows, res.columns.length, res.featureService, opts.output]],
        },
      );
    });
}

export function registerFeatureCommands(program: Command): void {
  registerApply(program);
  registerMaterialize(program);
  registerFeatures(program);
}
