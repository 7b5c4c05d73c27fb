import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { sqlIdent } from '../../storage/index.ts';
import {
  evaluate,
  type FeatureSpec,
  labelColumn,
  metricsForTracking,
  modelInputs,
  readTable,
  scoreOnnx,
  type TrainedModel,
  trainGbdt,
  trainLogisticRegression,
} from '../../training/index.ts';
import { fileInput, optionalFileInput, StepError, type StepKind } from '../step-kind.ts';
import type { BuiltinStepDeps } from './builtin-deps.ts';
import { parseStepParams } from './step-params.ts';

const featureSchema = z.union([
  z.string().min(1),
  z
    .object({
      name: z.string().min(1),
      kind: z.enum(['numeric', 'categorical']).default('numeric'),
      encoding: z.enum(['onehot', 'hashed']).optional(),
      buckets: z
        .number()
        .int()
        .min(2)
        .max(1 << 20)
        .optional(),
      max_categories: z.number().int().min(1).max(100_000).optional(),
    })
    .strict(),
]);

const trainParams = z
  .object({
    trainer: z.enum(['gbdt', 'logistic_regression']),
    task: z.enum(['binary', 'regression']).default('binary'),
    /** A SQL expression over the training data: the label (`delay > 15`). */
    label: z.string().min(1),
    features: z.array(featureSchema).min(1),
    params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
    seed: z.number().int().default(42),
  })
  .strict();

const toSpec = (f: z.output<typeof featureSchema>): FeatureSpec =>
  typeof f === 'string'
    ? { name: f, kind: 'numeric' }
    : {
        name: f.name,
        kind: f.kind,
        ...(f.encoding ? { encoding: f.encoding } : {}),
        ...(f.buckets ? { buckets: f.buckets } : {}),
        ...(f.max_categories ? { maxCategories: f.max_categories } : {}),
      };

export function trainStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'train',
    version: '1',
    checkParams: (params) => void parseStepParams(trainParams, params),
    async execute(ctx) {
      const p = parseStepParams(trainParams, ctx.params);
      const features = p.features.map(toSpec);
      const read = (path: string) =>
        readTable(deps.engine, { path, features, label: p.label, where: `(${p.label}) IS NOT NULL` });
      ctx.progress('reading training data');
      const train = await read(fileInput(ctx, 'train').path);
      const validFile = optionalFileInput(ctx, 'valid');
      const valid = validFile ? await read(validFile.path) : undefined;
      ctx.progress(`training ${p.trainer} on ${train.rows} rows`);
      const input = { train, ...(valid ? { valid } : {}), label: labelColumn, features, task: p.task, seed: p.seed };
      const model: TrainedModel =
        p.trainer === 'gbdt'
          ? await trainGbdt(input, p.params as never)
          : await trainLogisticRegression(input, p.params as never);
      for (let i = 0; i < model.history.length; i += 1000) {
        const chunk = model.history.slice(i, i + 1000);
        for (const point of chunk) {
          await ctx.logMetrics(
            { train_loss: point.train, ...(point.valid !== undefined ? { valid_loss: point.valid } : {}) },
            point.step,
          );
        }
      }
      const path = join(ctx.workDir, 'model.onnx');
      await writeFile(path, model.onnx);
      const info = Object.fromEntries(Object.entries(model.info).map(([k, v]) => [`info.${k}`, v]));
      return {
        files: { model: { path, meta: { trainer: model.kind, task: model.task, features: model.features } } },
        values: { trainer: model.kind, task: model.task, params: model.params, info: model.info, features: model.features },
        metrics: { train_rows: train.rows, ...(valid ? { valid_rows: valid.rows } : {}), ...info },
      };
    },
  };
}

const evaluateParams = z
  .object({
    label: z.string().min(1),
    task: z.enum(['binary', 'regression']).default('binary'),
    threshold: z.number().gt(0).lt(1).default(0.5),
    /** Segment columns, or `{ name, expr }` to segment by an expression (e.g. hub vs other airports). */
    segments: z
      .array(z.union([z.string().min(1), z.object({ name: z.string().min(1), expr: z.string().min(1) }).strict()]))
      .default([]),
    min_segment_rows: z.number().int().min(1).default(100),
    bootstrap: z.number().int().min(0).max(2000).default(100),
    seed: z.number().int().default(0),
  })
  .strict();

export function evaluateStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'evaluate',
    version: '1',
    checkParams: (params) => void parseStepParams(evaluateParams, params),
    async execute(ctx) {
      const p = parseStepParams(evaluateParams, ctx.params);
      const modelFile = fileInput(ctx, 'model');
      const test = fileInput(ctx, 'test');
      const onnx = await readFile(modelFile.path);
      // A built-in trainer says what its features are; for a model from a command step, its inputs do.
      const features =
        (modelFile.meta.features as FeatureSpec[] | undefined) ??
        (await modelInputs(onnx)).map(
          (i): FeatureSpec => ({ name: i.name, kind: i.type === 'string' ? 'categorical' : 'numeric' }),
        );
      const segments = p.segments.map((s) => (typeof s === 'string' ? { name: s, expr: sqlIdent(s) } : s));
      const table = await readTable(deps.engine, {
        path: test.path,
        features,
        label: p.label,
        where: `(${p.label}) IS NOT NULL`,
        extra: segments.map((s) => ({ name: `__segment_${s.name}`, expr: s.expr, kind: 'categorical' as const })),
      });
      ctx.progress(`scoring ${table.rows} rows`);
      const scores = await scoreOnnx(onnx, table);
      const result = evaluate({
        task: p.task,
        labels: table.columns[labelColumn] as Float64Array,
        scores,
        threshold: p.threshold,
        minSegmentRows: p.min_segment_rows,
        segments: segments.map((s) => ({ column: s.name, values: table.columns[`__segment_${s.name}`] as (string | null)[] })),
        ...(p.bootstrap > 0 ? { bootstrap: { samples: p.bootstrap, seed: p.seed } } : {}),
      });
      const metrics = { ...metricsForTracking(result), test_rows: table.rows };
      const path = join(ctx.workDir, 'evaluation.json');
      await writeFile(path, JSON.stringify(result, null, 2));
      return {
        files: { evaluation: { path } },
        // The digest of the rows evaluated on: promotion compares versions only on the same pinned set.
        values: { metrics, eval_digest: test.digest },
        metrics,
      };
    },
  };
}

const registerParams = z
  .object({
    model: z.string().min(1),
    description: z.string().optional(),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export function registerStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'register',
    version: '1',
    checkParams: (params) => void parseStepParams(registerParams, params),
    async execute(ctx) {
      const p = parseStepParams(registerParams, ctx.params);
      const model = fileInput(ctx, 'model');
      const metricsInput = ctx.inputs.metrics;
      const metrics = metricsInput?.kind === 'value' ? (metricsInput.value as Record<string, number>) : {};
      const evalDigest = ctx.inputs.eval_digest?.kind === 'value' ? String(ctx.inputs.eval_digest.value) : null;
      await deps.registry.createModel(ctx.actor, ctx.projectId, { name: p.model }).catch((e: { code?: string }) => {
        if (e.code !== 'ALREADY_EXISTS') throw e;
      });
      const version = await deps.registry.registerVersion(ctx.actor, {
        projectId: ctx.projectId,
        model: p.model,
        source: { kind: 'blob', digest: model.digest },
        metrics,
        lineage: {
          runId: ctx.trackingRunId,
          datasetDigests: ctx.lineage.datasetDigests,
          codeVersion: ctx.lineage.codeVersion,
          featureService: ctx.lineage.featureService,
          ...(evalDigest ? { evalDatasetDigest: evalDigest } : {}),
        },
        tags: {
          ...p.tags,
          'keel.pipeline': ctx.pipeline,
          'keel.pipelineRun': ctx.runId,
        },
        ...(p.description ? { description: p.description } : {}),
      });
      return { values: { model: p.model, version: version.version } };
    },
  };
}

const promoteParams = z.object({ model: z.string().min(1), alias: z.string().min(1), reason: z.string().optional() }).strict();

/** Moves an alias to the registered version; the model's promotion gates run inside the move. */
export function gateStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'gate',
    version: '1',
    checkParams: (params) => void parseStepParams(promoteParams, params),
    async execute(ctx) {
      const p = parseStepParams(promoteParams, ctx.params);
      const v = ctx.inputs.version;
      if (v?.kind !== 'value' || typeof v.value !== 'number')
        throw new StepError(`step '${ctx.step.name}' needs input 'version' from a register step`);
      const move = await deps.registry.moveAlias(ctx.actor, {
        projectId: ctx.projectId,
        model: p.model,
        alias: p.alias,
        version: v.value,
        reason: p.reason ?? `pipeline ${ctx.pipeline} run ${ctx.runId}`,
      });
      return { values: { alias: p.alias, version: v.value, move: move.id } };
    },
  };
}
