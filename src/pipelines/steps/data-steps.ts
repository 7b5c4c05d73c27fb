import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { sqlIdent, sqlString } from '../../storage/index.ts';
import { fileInput, StepError, type StepKind } from '../step-kind.ts';
import type { BuiltinStepDeps } from './builtin-deps.ts';
import { parseStepParams } from './step-params.ts';

const loadParams = z.object({ dataset: z.string().min(1), version: z.string().optional() }).strict();

/** The dataset version a step names: a pinned `dsv_` id, or the latest version of a dataset. */
async function resolveVersion(deps: BuiltinStepDeps, ctx: Parameters<StepKind['execute']>[0]) {
  const p = parseStepParams(loadParams, ctx.params);
  const ref = p.version ?? p.dataset;
  if (ref.startsWith('dsv_')) return deps.datasets.getVersion(ctx.actor, ctx.projectId, ref);
  const ds = await deps.datasets.getDataset(ctx.actor, ctx.projectId, p.dataset);
  const latest = ds.versions[0];
  if (!latest) throw new StepError(`dataset '${p.dataset}' has no versions`);
  return deps.datasets.getVersion(ctx.actor, ctx.projectId, latest.id);
}

export function loadDatasetStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'load_dataset',
    version: '1',
    checkParams: (params) => void parseStepParams(loadParams, params),
    // "Latest" moves: the key holds the version it names now, so a new version reruns the pipeline.
    fingerprint: async (ctx) => {
      const v = await resolveVersion(deps, ctx);
      return { version: v.id, digest: v.digest };
    },
    async execute(ctx) {
      const v = await resolveVersion(deps, ctx);
      const path = await deps.datasets.resolveDatasetPath(v.id, ctx.projectId);
      return {
        files: { data: { path, meta: { datasetVersion: v.id, digest: v.digest, rows: v.rows } } },
        values: { version: v.id, digest: v.digest, rows: v.rows },
        metrics: { rows: v.rows },
        lineage: { datasetDigests: [v.digest], datasetVersions: [v.id] },
      };
    },
  };
}

const validateParams = z.object({ contract: z.string().min(1) }).strict();

export function validateStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'validate',
    version: '1',
    checkParams: (params) => void parseStepParams(validateParams, params),
    // The stored contract can change under the same name: its current version is part of the key.
    fingerprint: async (ctx) => {
      const c = await deps.datasets.contracts.get(ctx.actor, ctx.projectId, parseStepParams(validateParams, ctx.params).contract);
      return { contract: `${c.name}@${c.version}` };
    },
    async execute(ctx) {
      const p = parseStepParams(validateParams, ctx.params);
      const data = fileInput(ctx, 'data');
      const version = data.meta.datasetVersion;
      if (typeof version !== 'string')
        throw new StepError(`input 'data' of step '${ctx.step.name}' must come from a load_dataset step`);
      const report = await deps.datasets.validate(ctx.actor, { projectId: ctx.projectId, version, contract: p.contract });
      const failed = report.checks.filter((c) => !c.passed).map((c) => c.name);
      if (!report.passed && report.contract.policy === 'strict') {
        throw new StepError(
          `data contract '${report.contract.name}' failed ${report.failed} check(s): ${failed.slice(0, 10).join(', ')}`,
        );
      }
      const path = join(ctx.workDir, 'report.json');
      await writeFile(path, JSON.stringify(report, null, 2));
      return {
        files: { report: { path } },
        values: { passed: report.passed, failed: report.failed },
        metrics: { contract_failed_checks: report.failed, contract_passed: report.passed ? 1 : 0 },
      };
    },
  };
}

const featuresParams = z
  .object({ service: z.string().min(1), timestamp_column: z.string().min(1).default('event_timestamp') })
  .strict();

export function historicalFeaturesStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'historical_features',
    version: '1',
    checkParams: (params) => void parseStepParams(featuresParams, params),
    // A changed feature definition is a new service version: it belongs in the key.
    fingerprint: async (ctx) => ({
      service: await deps.features.serviceRef(ctx.projectId, parseStepParams(featuresParams, ctx.params).service),
    }),
    async execute(ctx) {
      const p = parseStepParams(featuresParams, ctx.params);
      const entities = fileInput(ctx, 'entities');
      const output = join(ctx.workDir, 'features.parquet');
      const result = await deps.features.historical(ctx.actor, ctx.projectId, {
        service: p.service,
        entities: { parquet: entities.path },
        timestampColumn: p.timestamp_column,
        output,
      });
      return {
        files: { data: { path: output, meta: { featureService: result.featureService } } },
        values: { featureService: result.featureService, rows: result.rows, columns: result.columns },
        metrics: { rows: result.rows },
        lineage: { featureService: result.featureService },
      };
    },
  };
}

const splitParams = z.discriminatedUnion('by', [
  z
    .object({
      by: z.literal('time'),
      column: z.string().min(1),
      /** Rows at or after this time are the test set. */
      test_from: z.union([z.string(), z.number()]),
      /** Optional: training rows at or after this time become the validation set (early stopping). */
      valid_from: z.union([z.string(), z.number()]).optional(),
      where: z.string().optional(),
    })
    .strict(),
  z
    .object({
      by: z.literal('random'),
      test_fraction: z.number().gt(0).lt(1),
      valid_fraction: z.number().gt(0).lt(1).optional(),
      seed: z.number().int().default(42),
      where: z.string().optional(),
    })
    .strict(),
]);

const timeLiteral = (v: string | number) => (typeof v === 'number' ? `epoch_ms(${v})` : `CAST(${sqlString(v)} AS TIMESTAMP)`);

export function splitStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'split',
    version: '1',
    checkParams: (params) => void parseStepParams(splitParams, params),
    async execute(ctx) {
      const p = parseStepParams(splitParams, ctx.params);
      const data = fileInput(ctx, 'data');
      const source = `read_parquet(${sqlString(data.path)})`;
      const filter = p.where ? `(${p.where})` : 'true';
      const parts: Record<string, string> = {};
      if (p.by === 'time') {
        const col = sqlIdent(p.column);
        const test = `${col} >= ${timeLiteral(p.test_from)}`;
        const valid = p.valid_from === undefined ? 'false' : `${col} >= ${timeLiteral(p.valid_from)}`;
        parts.train = `${filter} AND NOT (${test}) AND NOT (${valid})`;
        if (p.valid_from !== undefined) parts.valid = `${filter} AND NOT (${test}) AND ${valid}`;
        parts.test = `${filter} AND ${test}`;
      } else {
        // A hash of the row number and seed: the same rows land in the same part on every run.
        const u = `(hash(__i, ${p.seed}) % 1000000) / 1000000.0`;
        const v = p.valid_fraction ?? 0;
        parts.test = `${filter} AND ${u} < ${p.test_fraction}`;
        if (v > 0) parts.valid = `${filter} AND ${u} >= ${p.test_fraction} AND ${u} < ${p.test_fraction + v}`;
        parts.train = `${filter} AND ${u} >= ${p.test_fraction + v}`;
      }
      const files: Record<string, { path: string }> = {};
      const metrics: Record<string, number> = {};
      for (const [name, where] of Object.entries(parts)) {
        const path = join(ctx.workDir, `${name}.parquet`);
        const from = p.by === 'random' ? `(SELECT *, row_number() OVER () AS __i FROM ${source})` : source;
        const select = p.by === 'random' ? 'SELECT * EXCLUDE (__i)' : 'SELECT *';
        await deps.engine.run(`COPY (${select} FROM ${from} WHERE ${where}) TO ${sqlString(path)} (FORMAT parquet)`);
        const [row] = await deps.engine.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(path)})`);
        metrics[`${name}_rows`] = row?.n ?? 0;
        if ((row?.n ?? 0) === 0) throw new StepError(`split '${name}' is empty: check the split params`);
        files[name] = { path };
      }
      return { files, metrics };
    },
  };
}

const queryParams = z.object({ sql: z.string().min(1) }).strict();

/** DuckDB SQL over the step's file inputs, each readable as a table named after its input. */
export function queryStep(deps: BuiltinStepDeps): StepKind {
  return {
    kind: 'query',
    version: '1',
    checkParams: (params) => void parseStepParams(queryParams, params),
    async execute(ctx) {
      const p = parseStepParams(queryParams, ctx.params);
      const ctes = Object.keys(ctx.inputs).map(
        (name) => `${sqlIdent(name)} AS (SELECT * FROM read_parquet(${sqlString(fileInput(ctx, name).path)}))`,
      );
      const output = join(ctx.workDir, 'data.parquet');
      const sql = `${ctes.length > 0 ? `WITH ${ctes.join(', ')} ` : ''}${p.sql}`;
      try {
        await deps.engine.run(`COPY (${sql}) TO ${sqlString(output)} (FORMAT parquet)`);
      } catch (e) {
        throw new StepError(`query failed: ${(e as Error).message.split('\n')[0]}`);
      }
      const [row] = await deps.engine.all<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(output)})`);
      return { files: { data: { path: output } }, metrics: { rows: row?.n ?? 0 } };
    },
  };
}
