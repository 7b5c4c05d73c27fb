import { type AuditStore, authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, newId, type Transactor } from '../core/index.ts';
import type { RegistryService } from '../registry/index.ts';
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
 * moves) or a pinned version. A switch is one revision written atomically; rollback writes the
 * previous revision's spec as a new one, so history only grows.
 */
export class DeploymentService {
  constructor(
    private readonly tx: Transactor<RolloutStores>,
    private readonly registry: RegistryService,
    private readonly bus: EventBus,
    private readonly clock: Clock,
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

  /** Points the deployment back at an earlier revision's spec (default: the one before the current). */
  async rollback(actor: Principal, projectId: string, name: string, toRevision?: number, reason = '') {
    authorize(actor, 'deployment:write', projectId);
    const d = await this.get(actor, projectId, name);
    const revisions = await this.s.deployments.revisions(d.id);
    const target = toRevision === undefined ? revisions[1] : revisions.find((r) => r.revision === toRevision);
    if (!target) {
      throw new AppError(
        toRevision === undefined ? 'INVALID_STATE' : 'NOT_FOUND',
        toRevision === undefined
          ? `deployment '${name}' has no earlier revision`
          : `deployment '${name}' has no revision ${toRevision}`,
      );
    }
    return this.deploy(actor, projectId, name, target.spec, reason || `rollback to revision ${target.revision}`);
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

  private async announce(d: Deployment): Promise<void> {
    await this.bus.publish({
      topic: deploymentChanged,
      projectId: d.projectId,
      payload: { name: d.name, revision: d.revision },
      at: this.clock.now(),
    });
  }
}
