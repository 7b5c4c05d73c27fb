import { Counter, type Registry } from 'prom-client';
import { systemPrincipal } from '../../auth/index.ts';
import { AppError, type Clock, type Logger } from '../../core/index.ts';
import { compileRecordValidator, type DatasetService, type RecordValidator } from '../../datasets/index.ts';
import type { FeatureStoreService, ReadPlan } from '../../features/index.ts';
import type { ModelSignature, RegistryService } from '../../registry/index.ts';
import type { Deployment, DeploymentStore } from '../../rollouts/index.ts';
import type { ModelCache } from '../runtime/model-cache.ts';

/** Everything the predict path needs for one deployment, resolved ahead so a request touches no metadata. */
export interface Route {
  projectId: string;
  deployment: Deployment;
  model: { name: string; version: number; digest: string; size: number; signature: ModelSignature };
  /** The feature service read online, as `name@version`, with its compiled plan. */
  features: { ref: string; plan: ReadPlan } | null;
  contract: { ref: string; validate: RecordValidator } | null;
  resolvedAt: number;
}

export interface RouteTableDeps {
  deployments: () => DeploymentStore;
  registry: RegistryService;
  features: FeatureStoreService;
  datasets: DatasetService;
  /** A route moves to a new model only once this has it loaded and warm. */
  models: Pick<ModelCache, 'acquire'>;
  metrics: Registry;
  clock: Clock;
  logger: Logger;
  /** How often known routes are re-resolved (alias moves, new feature versions). */
  refreshMs: number;
}

const key = (projectId: string, name: string) => `${projectId}\u0000${name}`;

/**
 * The gateway's in-memory routes. A deployment is resolved on first use, again when it changes
 * (`invalidate`, from the bus) and every `refreshMs`. When the metadata database cannot be read,
 * the last resolved route keeps serving: the data plane must outlive its control plane.
 *
 * A route that moves to another model file swaps only once that model is loaded and warm
 * (blue-green): until then the known route keeps serving, and it stays when the new model cannot
 * load. Alias moves reach the gateway this way without passing the deployment service's check.
 */
export class RouteTable {
  private readonly routes = new Map<string, Route>();
  private readonly pending = new Map<string, Promise<Route>>();
  /** Digest each deployment could not switch to, so a refused target is logged and counted once, not every refresh. */
  private readonly refused = new Map<string, string>();
  private readonly switchFailures: Counter<'deployment' | 'model_version'>;
  /**
   * Bumped by every `invalidate` (a switch): a resolution that started before the latest switch
   * resolves again instead of installing what it read, so a rollback issued while the model of
   * the deploy it undoes is still warming is not overtaken by it.
   */
  private readonly generation = new Map<string, number>();
  private refreshing = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RouteTableDeps) {
    this.switchFailures = new Counter({
      name: 'keel_route_switch_failures_total',
      help: 'Route switches refused because the new model version failed to load; the previous version kept serving',
      labelNames: ['deployment', 'model_version'] as const,
      registers: [deps.metrics],
    });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.refreshAll(), this.deps.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async get(projectId: string, name: string): Promise<Route> {
    const known = this.routes.get(key(projectId, name));
    return known ?? this.resolve(projectId, name);
  }

  /** Re-resolves at once (a switch must be visible to the next request); keeps the old route if that fails. */
  async invalidate(projectId: string, name: string): Promise<void> {
    const k = key(projectId, name);
    this.generation.set(k, (this.generation.get(k) ?? 0) + 1);
    await this.reresolve(projectId, name);
  }

  list(): Route[] {
    return [...this.routes.values()];
  }

  /** The periodic refresh: every known route at once (one slow model load must not hold up the others), never two rounds at a time. */
  private async refreshAll(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      await Promise.all([...this.routes.values()].map((r) => this.reresolve(r.projectId, r.deployment.name)));
    } finally {
      this.refreshing = false;
    }
  }

  private async reresolve(projectId: string, name: string): Promise<void> {
    await this.resolve(projectId, name).catch((e: unknown) => {
      if (e instanceof AppError && e.code === 'NOT_FOUND') this.routes.delete(key(projectId, name));
      else this.deps.logger.warn({ err: e, deployment: name }, 'route refresh failed; serving the last known route');
    });
  }

  private resolve(projectId: string, name: string): Promise<Route> {
    const k = key(projectId, name);
    let p = this.pending.get(k);
    if (!p) {
      p = this.resolveLatest(projectId, name, k).finally(() => this.pending.delete(k));
      this.pending.set(k, p);
    }
    return p;
  }

  /** Builds and warms the route, again while a switch arrived during the last attempt. */
  private async resolveLatest(projectId: string, name: string, k: string): Promise<Route> {
    for (;;) {
      const started = this.generation.get(k) ?? 0;
      const route = await this.build(projectId, name);
      const known = this.routes.get(k);
      // First resolution has nothing to keep serving: the first request loads the model.
      const ready = !known || known.model.digest === route.model.digest || (await this.warm(k, route, known));
      if ((this.generation.get(k) ?? 0) !== started) continue;
      if (!ready) return known as Route;
      this.refused.delete(k);
      this.routes.set(k, route);
      return route;
    }
  }

  /** Loads the next route's model; false (logged and counted once per target) when it cannot. */
  private async warm(k: string, next: Route, known: Route): Promise<boolean> {
    try {
      (await this.deps.models.acquire(next.model)).release();
      return true;
    } catch (err) {
      if (this.refused.get(k) !== next.model.digest) {
        this.refused.set(k, next.model.digest);
        const deployment = next.deployment.name;
        this.switchFailures.inc({ deployment, model_version: String(next.model.version) });
        this.deps.logger.warn(
          { err, deployment, serving: known.model.version, refused: next.model.version },
          'new model version failed to load; the deployment keeps serving the previous one',
        );
      }
      return false;
    }
  }

  private async build(projectId: string, name: string): Promise<Route> {
    const deployment = await this.deps.deployments().get(projectId, name);
    if (!deployment) throw new AppError('NOT_FOUND', `deployment '${name.slice(0, 64)}' does not exist`);
    const { spec } = deployment;
    // The caller was authorized for serving:predict on this project; resolution reads as the system.
    const v = await this.deps.registry.getVersion(
      systemPrincipal,
      projectId,
      spec.model,
      'alias' in spec.ref ? spec.ref.alias : spec.ref.version,
    );
    const serviceRef = spec.options.featureService ?? v.manifest.lineage.featureService;
    let features: Route['features'] = null;
    if (serviceRef) {
      const [service] = serviceRef.split('@') as [string];
      const { plan, version } = await this.deps.features.servingPlan(projectId, service);
      const trained = serviceRef.split('@')[1];
      if (trained !== undefined && Number(trained) !== version) {
        this.deps.logger.warn(
          { deployment: name, trained: serviceRef, serving: `${service}@${version}` },
          'serving a newer feature service version than the model was trained with',
        );
      }
      features = { ref: `${service}@${version}`, plan };
    }
    let contract: Route['contract'] = null;
    if (spec.options.contract) {
      const resolved = await this.deps.datasets.contracts.resolve(projectId, spec.options.contract);
      contract = { ref: `${resolved.contract.name}@${resolved.version}`, validate: compileRecordValidator(resolved.contract) };
    }
    return {
      projectId,
      deployment,
      model: {
        name: spec.model,
        version: v.version,
        digest: v.artifactDigest,
        size: v.artifactSize,
        signature: v.manifest.signature,
      },
      features,
      contract,
      resolvedAt: this.deps.clock.now(),
    };
  }
}
