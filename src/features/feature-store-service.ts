import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type AuditStore, authorize, can, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, newId, type Transactor } from '../core/index.ts';
import type { AnalyticsEngine, OnlineStore } from '../storage/index.ts';
import { definitionsFrom, type PlannedChange, planApply } from './apply-plan.ts';
import { compileCatalog, type FeatureCatalog } from './feature-catalog.ts';
import type { Definitions } from './feature-definitions.ts';
import type { FeatureRegistryStore, ViewState } from './feature-stores.ts';
import { parseDefinitions } from './load-definitions.ts';
import { type EntityFrame, getHistoricalFeatures } from './offline/historical-retrieval.ts';
import type { DatasetPathResolver } from './offline/source-relation.ts';
import { compileReadPlan, type ReadPlan, readOnlineFeatures } from './online/online-reader.ts';
import { loadTransforms } from './transforms.ts';

export interface FeatureStores {
  featureRegistry: FeatureRegistryStore;
  audit: AuditStore;
}

/** The applied definitions of a project, compiled once and reused until the next apply. */
export interface LoadedCatalog {
  catalog: FeatureCatalog;
  versions: Map<string, number>;
  plans: Map<string, ReadPlan>;
}

export class FeatureStoreService {
  private readonly loaded = new Map<string, Promise<LoadedCatalog>>();

  constructor(
    private readonly tx: Transactor<FeatureStores>,
    private readonly engine: AnalyticsEngine,
    readonly online: OnlineStore,
    private readonly clock: Clock,
    private readonly dataDir: string,
    private readonly datasetPaths?: (versionId: string, projectId: string) => Promise<string>,
  ) {}

  /** Dataset versions named by sources resolve within the project that owns the definitions. */
  resolverFor(projectId: string): DatasetPathResolver | undefined {
    const paths = this.datasetPaths;
    return paths ? (v) => paths(v, projectId) : undefined;
  }

  /** Compiles the applied definitions (and loads transform modules) once per project and apply. */
  load(projectId: string): Promise<LoadedCatalog> {
    let entry = this.loaded.get(projectId);
    if (!entry) {
      entry = this.compile(projectId);
      entry.catch(() => this.loaded.delete(projectId));
      this.loaded.set(projectId, entry);
    }
    return entry;
  }

  private async compile(projectId: string): Promise<LoadedCatalog> {
    const objects = await this.tx.stores.featureRegistry.listLatest(projectId);
    const catalog = compileCatalog(parseDefinitions(definitionsFrom(objects)));
    const versions = new Map(objects.filter((o) => o.deletedAt === null).map((o) => [`${o.kind}/${o.name}`, o.version]));
    const plans = new Map<string, ReadPlan>();
    for (const service of catalog.services.values())
      plans.set(service.name, compileReadPlan(catalog, service, await loadTransforms(service.transforms)));
    return { catalog, versions, plans };
  }

  /** Shows (dryRun) or applies the changes that make the applied state equal `defs`. */
  async apply(actor: Principal, projectId: string, input: unknown, opts: { prune?: boolean; dryRun?: boolean } = {}) {
    authorize(actor, 'features:write', projectId);
    const defs: Definitions = parseDefinitions(input);
    const current = await this.tx.stores.featureRegistry.listLatest(projectId);
    const changes = planApply(defs, current, opts.prune ?? false);
    // The result must compile: every reference resolves and every transform module loads.
    const touched = new Set(changes.map((c) => `${c.kind}/${c.name}`));
    const kept = definitionsFrom(current.filter((o) => !touched.has(`${o.kind}/${o.name}`)));
    const next: Definitions = {
      entities: [...defs.entities, ...kept.entities],
      sources: [...defs.sources, ...kept.sources],
      feature_views: [...defs.feature_views, ...kept.feature_views],
      transforms: [...defs.transforms, ...kept.transforms],
      feature_services: [...defs.feature_services, ...kept.feature_services],
    };
    const catalog = compileCatalog(parseDefinitions(next));
    for (const s of catalog.services.values()) await loadTransforms(s.transforms);
    if (opts.dryRun) return { applied: false, changes };
    await this.tx.transaction(async (s) => {
      const now = this.clock.now();
      for (const c of changes) {
        if (c.action === 'create' || c.action === 'update') {
          await s.featureRegistry.putVersion({
            projectId,
            kind: c.kind,
            name: c.name,
            version: c.version,
            spec: c.spec,
            digest: c.digest as string,
            createdAt: now,
            createdBy: actor.id,
            deletedAt: null,
          });
        } else if (c.action === 'delete') {
          await s.featureRegistry.markDeleted(projectId, c.kind, c.name, c.version, now);
        }
      }
      const changed = changes.filter((c) => c.action !== 'unchanged');
      if (changed.length > 0) {
        await recordAudit(s.audit, this.clock, actor, {
          action: 'features.apply',
          resourceType: 'feature_definitions',
          resourceId: projectId,
          projectId,
          after: changed.map((c) => `${c.action} ${c.kind} ${c.name}@${c.version}`),
        });
      }
    });
    this.loaded.delete(projectId);
    for (const c of changes)
      if (c.action === 'delete' && c.kind === 'feature_view') await this.online.deleteView(viewKey(projectId, c.name));
    return { applied: true, changes };
  }

  async listObjects(actor: Principal, projectId: string) {
    authorize(actor, 'features:read', projectId);
    return this.tx.stores.featureRegistry.listLatest(projectId);
  }

  /** `name@version` of a feature service, as a model records it for lineage. */
  async serviceRef(projectId: string, service: string): Promise<string> {
    const { versions } = await this.load(projectId);
    const v = versions.get(`feature_service/${service}`);
    if (v === undefined) throw new AppError('NOT_FOUND', `feature service '${service}' does not exist`);
    return `${service}@${v}`;
  }

  async historical(
    actor: Principal,
    projectId: string,
    req: { service: string; entities: EntityFrame; timestampColumn?: string; output?: string },
  ) {
    authorize(actor, 'features:read', projectId);
    const { catalog } = await this.load(projectId);
    const service = catalog.services.get(req.service);
    if (!service) throw new AppError('NOT_FOUND', `feature service '${req.service}' does not exist`);
    const dir = join(resolve(this.dataDir), 'retrievals');
    await mkdir(dir, { recursive: true });
    const output = req.output ?? join(dir, `${newId('retrieval')}.parquet`);
    const result = await getHistoricalFeatures(this.engine, {
      catalog,
      service,
      transforms: await loadTransforms(service.transforms),
      entities: req.entities,
      output,
      ...(req.timestampColumn ? { timestampColumn: req.timestampColumn } : {}),
      ...(this.datasetPaths ? { resolveDataset: this.resolverFor(projectId) as DatasetPathResolver } : {}),
    });
    return { ...result, featureService: await this.serviceRef(projectId, req.service) };
  }

  /** Online read for serving: by feature service, or ad-hoc feature refs (`view:feature`). */
  async readOnline(
    actor: Principal,
    projectId: string,
    req: { service?: string; features?: string[]; entities: Record<string, unknown>[]; maxAgeMs?: number },
  ) {
    if (!can(actor, 'features:read', projectId) && !can(actor, 'serving:predict', projectId))
      authorize(actor, 'features:read', projectId);
    const { catalog, plans } = await this.load(projectId);
    let plan: ReadPlan | undefined;
    if (req.service) {
      plan = plans.get(req.service);
      if (!plan) throw new AppError('NOT_FOUND', `feature service '${req.service}' does not exist`);
    } else {
      const adHoc = compileCatalog(
        parseDefinitions({ ...catalogDefs(catalog), feature_services: [{ name: 'adhoc', features: req.features ?? [] }] }),
      );
      plan = compileReadPlan(adHoc, adHoc.services.get('adhoc') as never, []);
    }
    const scoped = {
      ...plan,
      views: plan.views.map((v) => ({ ...v, view: { ...v.view, name: viewKey(projectId, v.view.name) } })),
    };
    const result = await readOnlineFeatures(this.online, scoped, req.entities, {
      now: this.clock.now(),
      ...(req.maxAgeMs !== undefined ? { maxAgeMs: req.maxAgeMs } : {}),
    });
    return result;
  }

  /**
   * The read plan the serving gateway keeps for a feature service, scoped to the project's
   * online keys, with the service's current version. Module-internal: the gateway authorizes its
   * own requests, and holds the plan so reads never touch the metadata database.
   */
  async servingPlan(projectId: string, service: string): Promise<{ plan: ReadPlan; version: number }> {
    const { plans, versions } = await this.load(projectId);
    const plan = plans.get(service);
    const version = versions.get(`feature_service/${service}`);
    if (!plan || version === undefined) throw new AppError('NOT_FOUND', `feature service '${service}' does not exist`);
    return {
      plan: { ...plan, views: plan.views.map((v) => ({ ...v, view: { ...v.view, name: viewKey(projectId, v.view.name) } })) },
      version,
    };
  }

  /** Reads online values with a plan from `servingPlan` (one batched store call). */
  /** `transforms: false`: stored features only; the caller runs the plan's transforms itself. */
  readPlanned(plan: ReadPlan, entities: Record<string, unknown>[], opts: { maxAgeMs?: number; transforms?: boolean } = {}) {
    return readOnlineFeatures(this.online, plan, entities, { now: this.clock.now(), ...opts });
  }

  async states(projectId: string): Promise<ViewState[]> {
    return this.tx.stores.featureRegistry.listStates(projectId);
  }

  get analytics(): AnalyticsEngine {
    return this.engine;
  }

  get transactor(): Transactor<FeatureStores> {
    return this.tx;
  }
}

/** Online rows are keyed per project so two projects' views of the same name never mix. */
export const viewKey = (projectId: string, view: string) => `${projectId}/${view}`;

function catalogDefs(c: FeatureCatalog) {
  return {
    entities: [...c.entities.values()],
    sources: [...c.sources.values()],
    feature_views: [...c.views.values()].map((v) => v.def),
    transforms: [...c.transforms.values()],
  };
}

export type { PlannedChange };
