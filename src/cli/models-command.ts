import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { RegisteredVersion } from '../client/index.ts';
import type { ModelAlias, ModelSignature } from '../registry/index.ts';
import { type Pair, parseNumericPair, parsePair, repeatable, toRecord } from './cli-parsers.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { registerModelAliasCommands } from './model-alias-commands.ts';
import { registerModelPromotionCommands } from './model-promotion-commands.ts';
import { formatPairs, formatTime, printDetails, printResult, renderSection, shortDigest, type TableSpec } from './output.ts';

interface RegisterOpts {
  file?: string;
  run?: string;
  path?: string;
  metric?: { key: string; value: number }[];
  tag?: Pair[];
  description?: string;
  signature?: string;
  dataset?: string[];
  codeVersion?: string;
  evalDataset?: string;
}

const versionsTable = (versions: Omit<RegisteredVersion, 'modelName'>[]): TableSpec => ({
  head: ['version', 'id', 'aliases', 'source', 'run', 'metrics', 'size', 'digest', 'created', 'by'],
  rows: versions.map((v) => [
    v.version,
    v.id,
    v.aliases.join(','),
    v.source,
    v.runId,
    formatPairs(v.manifest.metrics),
    v.artifactSize,
    shortDigest(v.artifactDigest),
    formatTime(v.createdAt),
    v.createdBy,
  ]),
});

function readSignature(file: string): ModelSignature {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ModelSignature;
  } catch (e) {
    throw usageError(`cannot read the signature file ${file}: ${(e as Error).message}`);
  }
}

/** `keel models …`: the model registry. Alias commands live in model-alias-commands.ts. */
export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('registered models, versions and aliases');

  models
    .command('list')
    .description('list models in the project')
    .action(async (_opts: unknown, cmd: Command) => {
      const res = (await clientOf(cmd).listModels()) as {
        models: {
          id: string;
          name: string;
          latestVersion: number | null;
          aliases: ModelAlias[];
          createdAt: number;
          description: string;
        }[];
      };
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['name', 'id', 'latest', 'aliases', 'description', 'created'],
        rows: res.models.map((m) => [
          m.name,
          m.id,
          m.latestVersion,
          m.aliases.map((a) => `${a.alias}→${a.version}`).join(' '),
          m.description,
          formatTime(m.createdAt),
        ]),
      });
    });

  models
    .command('show <name>')
    .description('a model with its aliases and versions')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const client = clientOf(cmd);
      const [model, { versions }] = await Promise.all([client.getModel(name), client.listVersions(name)]);
      const aliases = (model.aliases ?? {}) as Record<string, number>;
      printDetails(
        { json: wantsJson(cmd) },
        { ...model, versions },
        [
          ['model', model.name],
          ['id', model.id],
          ['description', model.description],
          ['latest version', model.latestVersion],
          ['created', formatTime(model.createdAt as number)],
          ['created by', model.createdBy],
        ],
        [
          renderSection('aliases', { head: ['alias', 'version'], rows: Object.entries(aliases) }),
          renderSection('versions', versionsTable(versions)),
        ],
      );
    });

  models
    .command('versions <name>')
    .description("list a model's versions")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const res = await clientOf(cmd).listVersions(name);
      printResult({ json: wantsJson(cmd) }, res, versionsTable(res.versions));
    });

  models
    .command('register <name>')
    .description('register a new version from an ONNX file or a run artifact (the model is created when new)')
    .option('--file <model.onnx>', 'a local ONNX file to upload')
    .option('--run <runId>', 'register an artifact of this run (with --path)')
    .option('--path <artifactPath>', 'the artifact path inside the run')
    .option('--metric <k=v>', 'an evaluation metric (repeatable)', repeatable(parseNumericPair))
    .option('--tag <k=v>', 'a tag (repeatable)', repeatable(parsePair))
    .option('--description <text>', 'what changed in this version')
    .option('--signature <sig.json>', 'declared signature {inputs, outputs}; checked against the ONNX graph')
    .option('--dataset <sha256:…>', 'digest of a training dataset (repeatable)', repeatable(String))
    .option('--code-version <commit>', 'code version that produced the model')
    .option('--eval-dataset <sha256:…>', 'digest of the pinned evaluation dataset the metrics were measured on')
    .action(async (name: string, opts: RegisterOpts, cmd: Command) => {
      if (Boolean(opts.file) === Boolean(opts.run))
        throw usageError('give either --file <model.onnx> or --run <runId> --path <artifactPath>');
      if (opts.run && !opts.path) throw usageError('--run needs --path <artifactPath>');
      if (opts.file && opts.path) throw usageError('--path goes with --run, not --file');
      if (opts.file && !existsSync(opts.file)) throw usageError(`no such file: ${opts.file}`);
      const lineage = {
        ...(opts.dataset ? { datasetDigests: opts.dataset } : {}),
        ...(opts.codeVersion ? { codeVersion: opts.codeVersion } : {}),
        ...(opts.evalDataset ? { evalDatasetDigest: opts.evalDataset } : {}),
      };
      const v = await clientOf(cmd).registerModel({
        name,
        ...(opts.file ? { file: opts.file } : { run: { runId: opts.run as string, path: opts.path as string } }),
        ...(opts.signature ? { signature: readSignature(opts.signature) } : {}),
        ...(opts.metric ? { metrics: toRecord(opts.metric) } : {}),
        ...(opts.tag ? { tags: toRecord(opts.tag) } : {}),
        ...(opts.description ? { description: opts.description } : {}),
        ...(Object.keys(lineage).length ? { lineage } : {}),
      });
      if (wantsJson(cmd)) return printResult({ json: true }, v);
      process.stdout.write(`Registered ${v.modelName} version ${v.version} (${v.id}, ${v.artifactDigest}).\n`);
    });

  registerModelAliasCommands(models);
  registerModelPromotionCommands(models);
}
