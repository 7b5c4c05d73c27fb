import { rm } from 'node:fs/promises';
import { authorize, type Principal } from '../auth/index.ts';
import { AppError, type Transactor } from '../core/index.ts';
import { checkSource, type DatasetSourceInput, type SourceContext } from './check-source.ts';
import type { ValidationReport } from './contract/index.ts';
import { ContractService, type DatasetStores } from './contract-service.ts';
import type { DatasetProfile, DatasetVersionSummary } from './dataset-types.ts';
import { type ContractRequest, resolveContractRequest, runValidation } from './dataset-validation.ts';
import { materialize } from './materialize-version.ts';
import {
  type DatasetServiceDeps,
  type DatasetVersionView,
  type RegisterDatasetInput,
  registerDataset,
  versionIdPattern,
} from './register-dataset.ts';
import { readParquet } from './sql-text.ts';

export interface ValidateDatasetInput extends ContractRequest {
  projectId: string;
  /** A registered version, or a source read just for this check (nothing is stored). */
  version?: string;
  source?: DatasetSourceInput;
  asOf?: number;
}

/** Datasets: registration, listings, profiles, validation, and the path other modules read versions at. */
export class DatasetService {
  readonly contracts: ContractService;

  constructor(
    private readonly tx: Transactor<DatasetStores>,
    private readonly deps: DatasetServiceDeps,
  ) {
    this.contracts = new ContractService(tx, deps.clock);
  }

  private get s() {
    return this.tx.stores;
  }

  private sources(projectId: string): SourceContext {
    return {
      engine: this.deps.engine,
      policy: this.deps.policy,
      blobs: this.deps.blobs,
      findVersion: async (ref) => {
        if (versionIdPattern.test(ref)) return this.s.datasets.getVersion(projectId, ref);
        const ds = await this.s.datasets.getDatasetByName(projectId, ref);
        const latest = ds ? (await this.s.datasets.listVersions(ds.id))[0] : undefined;
        return latest ? this.s.datasets.getVersion(projectId, latest.id) : null;
      },
    };
  }

  async register(actor: Principal, input: RegisterDatasetInput) {
    const result = await registerDataset(
      { tx: this.tx, deps: this.deps, contracts: this.contracts, sources: this.sources(input.projectId) },
      actor,
      input,
    );
    if (result.created) {
      await this.deps.events?.publish({
        topic: 'dataset.version.created',
        projectId: input.projectId,
        payload: { dataset: input.name, version: result.version.id, digest: result.version.digest },
        at: this.deps.clock.now(),
      });
    }
    return result;
  }

  async listDatasets(actor: Principal, projectId: string) {
    authorize(actor, 'dataset:read', projectId);
    const datasets = await this.s.datasets.listDatasets([projectId]);
    return Promise.all(
      datasets.map(async (d) => {
        const versions = await this.s.datasets.listVersions(d.id);
        return { ...d, versions: versions.length, latest: versions[0] ?? null };
      }),
    );
  }

  async getDataset(actor: Principal, projectId: string, name: string) {
    authorize(actor, 'dataset:read', projectId);
    const d = await this.s.datasets.getDatasetByName(projectId, name);
    if (!d) throw new AppError('NOT_FOUND', `dataset '${name.slice(0, 128)}' does not exist`);
    return { ...d, versions: await this.s.datasets.listVersions(d.id) };
  }

  async getVersion(actor: Principal, projectId: string, id: string): Promise<DatasetVersionView & { children: string[] }> {
    authorize(actor, 'dataset:read', projectId);
    const v = await this.s.datasets.getVersion(projectId, id);
    if (!v) throw new AppError('NOT_FOUND', `dataset version '${id.slice(0, 80)}' does not exist`);
    const dataset = await this.s.datasets.getDataset(v.datasetId);
    return { ...v, dataset: dataset?.name ?? '', children: await this.s.datasets.listChildren(projectId, id) };
  }

  async getProfile(
    actor: Principal,
    projectId: string,
    id: string,
  ): Promise<{ version: string; digest: string } & DatasetProfile> {
    const v = await this.getVersion(actor, projectId, id);
    return { version: v.id, digest: v.digest, ...v.profile };
  }

  /** Checks a version or a source against a contract; reports, never stores or flags. */
  async validate(actor: Principal, input: ValidateDatasetInput): Promise<ValidationReport> {
    if ((input.version === undefined) === (input.source === undefined)) {
      throw new AppError('VALIDATION_FAILED', 'give either version (a registered dataset version) or source');
    }
    authorize(actor, input.source ? 'dataset:write' : 'dataset:read', input.projectId);
    const requested = await resolveContractRequest(this.contracts, input.projectId, input);
    if (!requested) throw new AppError('VALIDATION_FAILED', 'give contract (a stored name) or contractYaml (inline)');
    const times = { asOf: input.asOf, now: this.deps.clock.now() };
    if (input.version !== undefined) {
      const v = await this.getVersion(actor, input.projectId, input.version);
      return runValidation(this.deps.engine, readParquet(await this.pathOf(v.digest)), v.columns, requested, times);
    }
    const checked = await checkSource(this.sources(input.projectId), input.source as DatasetSourceInput);
    const m = await materialize(this.deps.engine, this.deps.scratchDir, checked.source);
    try {
      return await runValidation(this.deps.engine, readParquet(m.path), m.columns, requested, times);
    } finally {
      await rm(m.path, { force: true });
    }
  }

  private async pathOf(digest: string): Promise<string> {
    if (!(await this.deps.blobs.stat(digest)))
      throw new AppError('NOT_FOUND', `the data of ${digest} is missing from the blob store`);
    return this.deps.blobs.pathOf(digest);
  }

  /**
   * The local Parquet file of a version, for DuckDB to read in place (feature store, pipelines).
   * Module-internal: the caller has authorized its own request; `projectId` confines the lookup.
   */
  async resolveDatasetPath(versionId: string, projectId?: string): Promise<string> {
    const v =
      projectId === undefined
        ? await this.s.datasets.findVersion(versionId)
        : await this.s.datasets.getVersion(projectId, versionId);
    if (!v) throw new AppError('NOT_FOUND', `dataset version '${versionId.slice(0, 80)}' does not exist`);
    return this.pathOf(v.digest);
  }
}

export type { DatasetVersionSummary };
