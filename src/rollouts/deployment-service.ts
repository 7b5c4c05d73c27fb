import { type AuditStore, authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, newId, type Transactor } from '../core/index.ts';
import type { ModelVersion, RegistryService } from '../registry/index.ts';
import type { EventBus } from '../storage/index.ts';
import type { DeploymentStore } from './deployment-store.ts';
import {
  type Deployment,
  type DeploymentRevision,
  type DeploymentSpec,
  deploymentSpecSchema,
  refText,
} from './deployment-types.ts';

export interface RolloutStores {
  deployments: DeploymentStore;
  audit: AuditStore;
}

/**
 * The serving runtime as a switch sees it. `load` loads and warms the version's model and
 * resolves once it is ready to serve; when the runtime cannot load it, it rejects with
 * UNAVAILABLE, details `{state: 'FAILED'}` and the runtime's reason (as `ModelCache.load` does).
 */
export interface ServingRuntime {
  load(version: ModelVersion): Promise<void>;
}

const namePattern = /^[a-z][a-z0-9_-]{0,63}$/;

/** Topic the gateway listens on to switch routes at once (it also reconciles periodically). */
export const deploymentChanged = 'deployment.changed';

function parseSpec(input: unknown): DeploymentSpec {
  const parsed = deploymentSpecSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`);
    throw new AppError('VALIDATION_FAILED', `invalid deployment: ${problems.join('; ')}`, { problems });
  }
  return parsed.data;
}

/**
 * Deployments: named endpoints pointing at a model version through an alias (follows its
 * moves) or a pinned version. A switch is blue-green: the target is loaded and warmed in the
 * serving runtime first, then one revision is written atomically. Rollback writes an earlier
 * revision, pinned to the version it served, as a new one, so history only grows.
 */
export class DeploymentService {
  constructor(
    private readonly tx: Transactor<RolloutStores>,
    private readonly registry: RegistryService,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    /** Absent when no serving runtime shares this process (then the gateway warms before it swaps routes). */
    private readonly runtime: ServingRuntime | null = null,
  ) {}

  private get s() {
    return this.tx.stores;
  }

  /** Creates the deployment or switches it to a new spec. */
  async deploy(actor: Principal, projectId: string, name: string, input: unknown, reason = '') {
    authorize(actor, 'deployment:write', projectId);
    if (!namePattern.test(name)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `deployment name '${name.slice(0, 80)}' must be lowercase letters, digits, _ or -, starting with a letter`,
      );
    }
    const spec = parseSpec(input);
    // The target must exist now: a deployment never points at nothing.
    const version = await this.registry.getVersion(
      actor,
      projectId,
      spec.model,
      'alias' in spec.ref ? spec.ref.alias : spec.ref.version,
    );
    // Blue-green: the new version is ready before any request can be routed to it, and a model
    // the runtime refuses never becomes the target, so the old one keeps serving.
    await this.loadInRuntime(spec.model, version);
    const result = await this.tx.transaction(async (s) => {
      const now = this.clock.now();
      const current = await s.deployments.get(projectId, name);
      const next: Deployment = current
        ? { ...current, revision: current.revision + 1, spec, updatedAt: now, updatedBy: actor.id }
        : { id: newId('deployment'), projectId, name, revision: 1, spec, createdAt: now, updatedAt: now, updatedBy: actor.id };
      const revision: DeploymentRevision = {
        deploymentId: next.id,
        revision: next.revision,
        spec,
        version: version.version,
        reason,
        at: now,
        by: actor.id,
      };
      if (current) await s.deployments.update(next, current.revision, revision);
      else await s.deployments.create(next, revision);
      await recordAudit(s.audit, this.clock, actor, {
        action: current ? 'deployment.switch' : 'deployment.create',
        resourceType: 'deployment',
        resourceId: next.id,
        projectId,
        before: current ? { target: refText(current.spec), revision: current.revision } : undefined,
        after: { target: refText(spec), version: version.version, revision: next.revision, reason },
      });
      return { deployment: next, created: !current };
    });
    await this.announce(result.deployment);
    return { ...result, version: version.version };
  }

  /**
   * Undoes the last change of what the deployment serves. By default: when the alias the current
   * revision follows moved since it was written, that move (back to the version the alias pointed
   * at before its latest move); else the current revision (back to the version the one before
   * served). With `toRevision`: the version that revision served. The spec is written again
   * pinned to that version, because the alias may point elsewhere now: after a rollback the
   * deployment no longer follows an alias until it is deployed with one again.
   */
  async rollback(actor: Principal, projectId: string, name: string, toRevision?: number, reason = '') {
    authorize(actor, 'deployment:write', projectId);
    const d = await this.get(actor, projectId, name);
    const revisions = await this.s.deployments.revisions(d.id);
    let target: DeploymentRevision | undefined;
    let served: number | null = null;
    let why = '';
    if (toRevision !== undefined) {
      target = revisions.find((r) => r.revision === toRevision);
      if (!target) throw new AppError('NOT_FOUND', `deployment '${name}' has no revision ${toRevision}`);
      served = await this.servedBy(actor, projectId, target);
    } else {
      const current = revisions[0];
      if (current && 'alias' in current.spec.ref) {
        const then = await this.servedBy(actor, projectId, current);
        const now = await this.registry
          .getVersion(actor, projectId, current.spec.model, current.spec.ref.alias)
          .then((v) => v.version)
          .catch((e: unknown) => {
            if (e instanceof AppError && e.code === 'NOT_FOUND') return null;
            throw e;
          });
        if (then !== null && now !== then) {
          target = current;
          served = await this.beforeLastMove(actor, projectId, current, then);
          why = `rollback to v${served}, before ${refText(current.spec)} moved`;
        }
      }
      if (!target) {
        target = revisions[1];
        if (!target) throw new AppError('INVALID_STATE', `deployment '${name}' has no earlier revision`);
        served = await this.servedBy(actor, projectId, target);
      }
    }
    // Unknown only for a revision stored before versions were recorded whose alias has no history then.
    const spec: DeploymentSpec = served === null ? target.spec : { ...target.spec, ref: { version: served } };
    return this.deploy(actor, projectId, name, spec, reason || why || `rollback to revision ${target.revision}`);
  }

  async get(actor: Principal, projectId: string, name: string): Promise<Deployment> {
    authorize(actor, 'registry:read', projectId);
    const d = await this.s.deployments.get(projectId, name);
    if (!d) throw new AppError('NOT_FOUND', `deployment '${name.slice(0, 64)}' does not exist`);
    return d;
  }

  async list(actor: Principal, projectId: string) {
    authorize(actor, 'registry:read', projectId);
    return this.s.deployments.list(projectId);
  }

  async revisions(actor: Principal, projectId: string, name: string) {
    const d = await this.get(actor, projectId, name);
    return this.s.deployments.revisions(d.id);
  }

  /** The version a revision served when it was written. */
  private async servedBy(actor: Principal, projectId: string, r: DeploymentRevision): Promise<number | null> {
    if (r.version !== null) return r.version;
    if ('version' in r.spec.ref) return r.spec.ref.version;
    // Stored before revisions recorded their version: the alias's history says where it pointed then.
    const at = await this.registry.aliasAt(actor, projectId, r.spec.model, r.spec.ref.alias, r.at).catch(() => null);
    return at?.version ?? null;
  }

  /** What an alias-following revision served just before its alias's latest move (`then`: what it served when written). */
  private async beforeLastMove(actor: Principal, projectId: string, r: DeploymentRevision, then: number): Promise<number> {
    if (!('alias' in r.spec.ref)) return then;
    const moves = await this.registry.aliasHistory(actor, projectId, r.spec.model, r.spec.ref.alias);
    // Moves in the revision's own millisecond may predate its resolution: only later ones count.
    const last = moves.filter((m) => m.at > r.at).at(-1);
    return last?.fromVersion ?? then;
  }

  private async loadInRuntime(model: string, version: ModelVersion): Promise<void> {
    if (!this.runtime) return;
    try {
      await this.runtime.load(version);
    } catch (e) {
      const failed = e instanceof AppError && (e.details as { state?: string } | undefined)?.state === 'FAILED';
      if (!failed) throw e;
      throw new AppError(
        'MODEL_LOAD_FAILED',
        `model ${model}@v${version.version} cannot be served: ${e.message}; the deployment was not changed`,
        { model, version: version.version, reason: e.message },
      );
    }
  }

  private async announce(d: Deployment): Promise<void> {
    await this.bus.publish({
      topic: deploymentChanged,
      projectId: d.projectId,
      payload: { name: d.name, revision: d.revision },
      at: this.clock.now(),
    });
  }
}
