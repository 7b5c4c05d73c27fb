import { existsSync, readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { type ContractChoice, KeelApiError } from '../client/index.ts';
import { exitCodeFor } from '../core/index.ts';
import type { ValidationReport } from '../datasets/index.ts';
import { parseTime, repeatable } from './cli-parsers.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { registerDataContractCommands } from './data-contract-commands.ts';
import { profileTable, renderReport, versionFields, versionsTable } from './data-output.ts';
import { formatTime, printDetails, printResult, renderSection, shortDigest } from './output.ts';

interface SourceOpts {
  file?: string[];
  query?: string;
  contract?: string;
  asOf?: number;
}

/** `--contract` is a YAML file when one exists at that path, else a stored contract name[@version]. */
export function contractOption(ref: string | undefined): ContractChoice {
  if (ref === undefined) return {};
  if (existsSync(ref)) return { contractYaml: readFileSync(ref, 'utf8') };
  if (/\.ya?ml$/i.test(ref)) throw usageError(`no such file: ${ref}`);
  return { contract: ref };
}

function sourceOf(opts: SourceOpts, positional?: string) {
  const files = [...(positional ? [positional] : []), ...(opts.file ?? [])];
  if (files.length > 0 === (opts.query !== undefined))
    throw usageError('give data files (--file, repeatable) or --query "<sql>", not both');
  return files.length > 0 ? { files } : { query: opts.query as string };
}

const asOfOption = () =>
  new Option('--as-of <time>', 'measure freshness at this ISO time or epoch ms (default: now)').argParser(parseTime);

function printReport(cmd: Command, report: ValidationReport): void {
  if (wantsJson(cmd)) printResult({ json: true }, report);
  else process.stdout.write(`${renderReport(report)}\n`);
}

/** `keel data …`: dataset versions, profiles, validation and contracts. */
export function registerDataCommand(program: Command): void {
  const data = program.command('data').description('dataset versions, profiles and data contracts');

  data
    .command('register <name>')
    .description('register a dataset version from Parquet/CSV files or a DuckDB query (same content → same version)')
    .option(
      '--file <path>',
      'a Parquet or CSV file or glob (repeatable); uploaded when the server cannot read it',
      repeatable(String),
    )
    .option('--query <sql>', 'a DuckDB SELECT run by the server; may name datasets of the project as tables')
    .option('--contract <file.yaml|name>', 'check against a contract: a YAML file (stored) or a stored name[@version]')
    .option('--parent <version>', 'a version this one was derived from (repeatable)', repeatable(String))
    .option('--step <name>', 'the step that produced it')
    .option('--run <runId>', 'the run that produced it')
    .option('--description <text>', 'what this version is')
    .addOption(asOfOption())
    .action(
      async (
        name: string,
        opts: SourceOpts & { parent?: string[]; step?: string; run?: string; description?: string },
        cmd: Command,
      ) => {
        const source = sourceOf(opts);
        try {
          const v = await clientOf(cmd).data.register({
            name,
            ...source,
            ...contractOption(opts.contract),
            ...(opts.parent ? { parents: opts.parent } : {}),
            ...(opts.step ? { step: opts.step } : {}),
            ...(opts.run ? { runId: opts.run } : {}),
            ...(opts.description ? { description: opts.description } : {}),
            ...(opts.asOf !== undefined ? { asOf: opts.asOf } : {}),
          });
          if (wantsJson(cmd)) return printResult({ json: true }, v);
          const what = v.created ? 'Registered' : 'Already registered:';
          process.stdout.write(`${what} ${v.dataset} ${v.id} (${v.rows} rows, ${shortDigest(v.digest)}, ${v.status})\n`);
          if (v.report && !v.report.passed) process.stdout.write(`\n${renderReport(v.report)}\n`);
        } catch (e) {
          // A strict contract refused the data: show people why before the error line.
          const report = e instanceof KeelApiError ? (e.details as { report?: ValidationReport } | undefined)?.report : undefined;
          if (report && !wantsJson(cmd)) process.stdout.write(`${renderReport(report)}\n\n`);
          throw e;
        }
      },
    );

  data
    .command('list [name]')
    .description('list datasets, or the versions of one')
    .action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
      const client = clientOf(cmd);
      if (name) {
        const d = await client.data.get(name);
        return printResult({ json: wantsJson(cmd) }, d, versionsTable(d.versions));
      }
      const res = await client.data.list();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['name', 'versions', 'latest', 'rows', 'status', 'created'],
        rows: res.datasets.map((d) => [
          d.name,
          d.versions,
          d.latest?.id,
          d.latest?.rows,
          d.latest?.status,
          formatTime(d.latest?.createdAt),
        ]),
      });
    });

  data
    .command('show <version>')
    .description('a version: digest, schema, lineage, contract verdict')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const v = await clientOf(cmd).data.version(id);
      const sections = [renderSection('columns', { head: ['column', 'type'], rows: v.columns.map((c) => [c.name, c.type]) })];
      if (v.validation) sections.push(renderReport(v.validation));
      printDetails({ json: wantsJson(cmd) }, v, versionFields(v), sections);
    });

  data
    .command('profile <version>')
    .description('per-column statistics computed at registration')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const p = await clientOf(cmd).data.profile(id);
      if (!wantsJson(cmd)) process.stdout.write(`${p.version}: ${p.rows} rows\n`);
      printResult({ json: wantsJson(cmd) }, p, profileTable(p));
    });

  data
    .command('validate [target]')
    .description('check a version (dsv_…) or a data file against a contract; exits 12 when a check fails')
    .option('--file <path>', 'a Parquet or CSV file or glob (repeatable)', repeatable(String))
    .option('--query <sql>', 'a DuckDB SELECT run by the server')
    .requiredOption('--contract <file.yaml|name>', 'a contract YAML file, or a stored name[@version]')
    .addOption(asOfOption())
    .action(async (target: string | undefined, opts: SourceOpts, cmd: Command) => {
      const byVersion = target !== undefined && /^dsv_/.test(target) && !existsSync(target);
      const what = byVersion ? { version: target } : sourceOf(opts, target);
      const report = await clientOf(cmd).data.validate({
        ...what,
        ...contractOption(opts.contract),
        ...(opts.asOf !== undefined ? { asOf: opts.asOf } : {}),
      });
      printReport(cmd, report);
      if (!report.passed) {
        process.stderr.write(`error: the data fails contract '${report.contract.name}' [CONTRACT_FAILED]\n`);
        process.exitCode = exitCodeFor('CONTRACT_FAILED');
      }
    });

  registerDataContractCommands(data);
}
