import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, idPrefixes, newId, type Transactor } from '../core/index.ts';
import type { AnalyticsEngine, BlobStore, EventBus } from '../storage/index.ts';
import { checkSource, type DatasetSourceInput, type SourceContext } from './check-source.ts';
import type { ValidationReport } from './contract/index.ts';
import type { ContractService, DatasetStores } from './contract-service.ts';
import { profileDataset } from './dataset-profile.ts';
import type { Dataset, DatasetVersion, Lineage } from './dataset-types.ts';
import { type ContractRequest, resolveContractRequest, runValidation } from './dataset-validation.ts';
import { materialize } from './materialize-version.ts';
import type { PathPolicy } from './path-policy.ts';
import { readParquet } from './sql-text.ts';

export interface DatasetServiceDeps {
  engine: AnalyticsEngine;
  blobs: BlobStore & { pathOf(digest: string): string };
  clock: Clock;
  policy: PathPolicy;
  /** Where versions are written before they are stored; inside the engine's sandbox. */
  scratchDir: string;
  events?: EventBus;
}

export interface RegisterDatasetInput extends ContractRequest {
  projectId: string;
  name: string;
  description?: string;
  source: DatasetSourceInput;
  lineage?: { parents?: string[]; step?: string; runId?: string };
  /** Freshness is measured against this time (default: now). */
  asOf?: number;
}

export type DatasetVersionView = DatasetVersion & { dataset: string };

/** What registration works with; the DatasetService provides it. */
export interface RegisterEnv {
  tx: Transactor<DatasetStores>;
  deps: DatasetServiceDeps;
  contracts: ContractService;
  sources: SourceContext;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
// Route segments under /datasets; a dataset of that name could never be addressed.
const reservedNames = new Set(['versions', 'contracts', 'validate']);

/** `dsv_` + 24 hex digits (96 bits) of the content digest: short enough to type, never colliding in practice. */
export const datasetVersionId = (digest: string): string => `${idPrefixes.datasetVersion}_${digest.slice(7, 31)}`;
export const versionIdPattern = /^dsv_[0-9a-f]{24}$/;

export function checkDatasetName(name: string): void {
  if (!namePattern.test(name) || reservedNames.has(name)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `dataset name '${name.slice(0, 80)}' must be 1–128 letters, digits, _ . or -, and not versions, contracts or validate`,
    );
  }
}

async function checkLineage(s: DatasetStores, projectId: string, lineage: RegisterDatasetInput['lineage']) {
  for (const p of lineage?.parents ?? []) {
    if (!(await s.datasets.getVersion(projectId, p)))
      throw new AppError('NOT_FOUND', `parent dataset version '${p.slice(0, 80)}' does not exist`);
  }
  const runId = lineage?.runId;
  if (runId && (await s.runs.get(runId))?.projectId !== projectId)
    throw new AppError('NOT_FOUND', `run '${runId.slice(0, 80)}' does not exist`);
}

/**
 * Registers a version: the source is written once as canonical Parquet, hashed, validated against
 * the contract (strict: refused with CONTRACT_FAILED and nothing stored; warn: stored as flagged),
 * profiled, and stored as a blob. The same content registered again returns the existing version.
 */
export async function registerDataset(
  env: RegisterEnv,
  actor: Principal,
  input: RegisterDatasetInput,
): Promise<{ version: DatasetVersionView; created: boolean; report: ValidationReport | null }> {
  authorize(actor, 'dataset:write', input.projectId);
  checkDatasetName(input.name);
  const contract = await resolveContractRequest(env.contracts, input.projectId, input);
  await checkLineage(env.tx.stores, input.projectId, input.lineage);
  const checked = await checkSource(env.sources, input.source);
  const m = await materialize(env.deps.engine, env.deps.scratchDir, checked.source);
  try {
    const id = datasetVersionId(m.digest);
    const existing = await env.tx.stores.datasets.getVersion(input.projectId, id);
    const times = { asOf: input.asOf, now: env.deps.clock.now() };
    const report = contract ? await runValidation(env.deps.engine, readParquet(m.path), m.columns, contract, times) : null;
    if (report && !report.passed && contract?.contract.policy === 'strict') throw contractFailed(report);
    if (existing) return { version: await sameContent(env.tx.stores, existing, input.name), created: false, report };
    const profile = await profileDataset(env.deps.engine, readParquet(m.path), m.columns);
    const blob = await env.deps.blobs.put(createReadStream(m.path));
    if (blob.digest !== m.digest) throw new AppError('INTERNAL', `stored ${blob.digest}, expected ${m.digest}`);
    const lineage: Lineage = {
      parents: [...new Set([...(input.lineage?.parents ?? []), ...checked.reads])],
      step: input.lineage?.step ?? null,
      runId: input.lineage?.runId ?? null,
    };
    const draft = {
      id,
      digest: m.digest,
      sizeBytes: m.sizeBytes,
      rows: m.rows,
      columns: m.columns,
      profile,
      lineage,
      source: checked.summary,
    };
    // A concurrent registration may create the dataset or this very version first: look again and retry.
    for (let attempt = 0; ; attempt++) {
      try {
        return await env.tx.transaction(async (s) => {
          const dataset =
            (await s.datasets.getDatasetByName(input.projectId, input.name)) ??
            (await createDataset(s, env.deps.clock, actor, input));
          const applied = contract?.inline
            ? await env.contracts.applyIn(s, actor, input.projectId, contract.inline, contract.contract)
            : null;
          const contractVersion = applied?.contract.version ?? contract?.version ?? null;
          const version: DatasetVersion = {
            ...draft,
            projectId: input.projectId,
            datasetId: dataset.id,
            status: report && !report.passed ? 'flagged' : 'ok',
            contract: contract ? `${contract.contract.name}@${contractVersion}` : null,
            validation: report ? { ...report, contract: { ...report.contract, version: contractVersion } } : null,
            description: input.description ?? '',
            createdAt: env.deps.clock.now(),
            createdBy: actor.id,
          };
          await s.datasets.createVersion(version);
          await recordAudit(s.audit, env.deps.clock, actor, {
            action: 'dataset.version.create',
            resourceType: 'dataset',
            resourceId: dataset.id,
            projectId: input.projectId,
            after: {
              dataset: dataset.name,
              version: id,
              digest: m.digest,
              rows: m.rows,
              status: version.status,
              contract: version.contract,
            },
          });
          return { version: { ...version, dataset: dataset.name }, created: true, report: version.validation };
        });
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'ALREADY_EXISTS')) throw e;
        // The same content won the race: answer with its version. Else the dataset was created meanwhile.
        const winner = await env.tx.stores.datasets.getVersion(input.projectId, id);
        if (winner) return { version: await sameContent(env.tx.stores, winner, input.name), created: false, report };
        if (attempt >= 3) throw e;
      }
    }
  } finally {
    await rm(m.path, { force: true });
  }
}

/** A version belongs to one dataset: the same bytes under another name in the project are a conflict. */
async function sameContent(s: DatasetStores, existing: DatasetVersion, name: string): Promise<DatasetVersionView> {
  const dataset = await s.datasets.getDataset(existing.datasetId);
  if (dataset?.name !== name) {
    throw new AppError(
      'ALREADY_EXISTS',
      `this content is already version ${existing.id} of dataset '${dataset?.name}' in this project`,
      {
        version: existing.id,
        dataset: dataset?.name,
      },
    );
  }
  return { ...existing, dataset: dataset.name };
}

async function createDataset(s: DatasetStores, clock: Clock, actor: Principal, input: RegisterDatasetInput): Promise<Dataset> {
  const dataset: Dataset = {
    id: newId('dataset'),
    projectId: input.projectId,
    name: input.name,
    description: input.description ?? '',
    createdAt: clock.now(),
    createdBy: actor.id,
  };
  await s.datasets.createDataset(dataset);
  await recordAudit(s.audit, clock, actor, {
    action: 'dataset.create',
    resourceType: 'dataset',
    resourceId: dataset.id,
    projectId: dataset.projectId,
    after: { name: dataset.name },
  });
  return dataset;
}

export function contractFailed(report: ValidationReport): AppError {
  const failed = report.checks.filter((c) => !c.passed).map((c) => c.name);
  return new AppError(
    'CONTRACT_FAILED',
    `contract '${report.contract.name}' (${report.contract.policy}) failed ${failed.length} of ${report.checks.length} checks: ${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', …' : ''}`,
    { report },
  );
}
