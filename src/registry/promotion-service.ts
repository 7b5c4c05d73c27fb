import { authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, type Transactor } from '../core/index.ts';
import { evaluateGate, type GateEvaluation } from './promotion-gate.ts';
import { checkPromotionPolicy, parsePromotionPolicy } from './promotion-policy.ts';
import type { Approval, StoredPolicy } from './promotion-types.ts';
import { checkAliasName, type RegistryService, type RegistryStores } from './registry-service.ts';
import type { AliasMove } from './registry-types.ts';

export type PolicyInput = { yaml: string } | { policy: unknown };

export interface PolicyView extends StoredPolicy {
  model: string;
}

export interface GateReport {
  model: string;
  version: number;
  /** The policy in force, or null when the model has none (nothing is protected). */
  policy: StoredPolicy['policy'] | null;
  /** A dry run of the gate for each alias asked about (every protected alias by default). */
  evaluations: GateEvaluation[];
  approvals: Approval[];
  /** Past moves to this version, with the checks stored at move time. */
  moves: AliasMove[];
}

/** Promotion policies, approvals and dry runs of the gate (docs/gates.md). */
export class PromotionService {
  constructor(
    private readonly tx: Transactor<RegistryStores>,
    private readonly registry: RegistryService,
    private readonly clock: Clock,
  ) {}

  /** Replaces the model's policy (admin only: whoever may edit the policy may bypass its gates). */
  async setPolicy(actor: Principal, projectId: string, model: string, input: PolicyInput): Promise<PolicyView> {
    const m = await this.registry.getModel(actor, projectId, model);
    authorize(actor, 'policy:write', m.projectId);
    const policy = 'yaml' in input ? parsePromotionPolicy(input.yaml) : checkPromotionPolicy(input.policy);
    const source = 'yaml' in input ? input.yaml : JSON.stringify(input.policy, null, 2);
    const stored: StoredPolicy = { modelId: m.id, policy, source, updatedAt: this.clock.now(), updatedBy: actor.id };
    await this.tx.transaction(async (s) => {
      const before = await s.models.getPolicy(m.id);
      await s.models.putPolicy(stored);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'model.policy.set',
        resourceType: 'model',
        resourceId: m.id,
        projectId: m.projectId,
        before: before?.policy ?? null,
        after: policy,
      });
    });
    return { model: m.name, ...stored };
  }

  async getPolicy(actor: Principal, projectId: string, model: string): Promise<PolicyView> {
    const m = await this.registry.getModel(actor, projectId, model);
    const stored = await this.tx.stores.models.getPolicy(m.id);
    if (!stored) throw new AppError('NOT_FOUND', `model '${m.name}' has no promotion policy`);
    return { model: m.name, ...stored };
  }

  /**
   * Approves a version for `alias` (null: for every protected alias). The proposer, the principal
   * who registered the version, cannot approve it. Approving twice is a no-op (`created: false`).
   */
  async approve(
    actor: Principal,
    projectId: string,
    model: string,
    ref: string | number,
    input: { alias?: string | null; comment?: string },
  ): Promise<Approval & { model: string; created: boolean }> {
    const m = await this.registry.getModel(actor, projectId, model);
    authorize(actor, 'model:approve', m.projectId);
    const alias = input.alias ?? null;
    if (alias !== null) checkAliasName(alias);
    const v = await this.registry.getVersion(actor, projectId, m.id, ref);
    if (v.createdBy === actor.id) {
      throw new AppError(
        'FORBIDDEN',
        `version ${v.version} of '${m.name}' was registered by ${actor.id}, who cannot also approve it: approvals come from someone other than the proposer`,
        { proposer: v.createdBy },
      );
    }
    const approval: Approval = {
      modelId: m.id,
      version: v.version,
      alias,
      approver: actor.id,
      role: actor.role,
      comment: input.comment ?? '',
      at: this.clock.now(),
    };
    return this.tx.transaction(async (s) => {
      const same = (await s.models.listApprovals(m.id, v.version)).find((a) => a.alias === alias && a.approver === actor.id);
      if (same) return { model: m.name, ...same, created: false };
      await s.models.addApproval(approval);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'model.version.approve',
        resourceType: 'model',
        resourceId: m.id,
        projectId: m.projectId,
        after: { model: m.name, version: v.version, alias, comment: approval.comment },
      });
      return { model: m.name, ...approval, created: true };
    });
  }

  /** Dry-runs the gate for `version` (nothing moves) and lists the checks stored with past moves to it. */
  async evaluate(actor: Principal, projectId: string, model: string, ref: string | number, alias?: string): Promise<GateReport> {
    const m = await this.registry.getModel(actor, projectId, model);
    if (alias !== undefined) checkAliasName(alias);
    const v = await this.registry.getVersion(actor, projectId, m.id, ref);
    const models = this.tx.stores.models;
    const [stored, aliases, approvals, moves] = await Promise.all([
      models.getPolicy(m.id),
      models.listAliases(m.id),
      models.listApprovals(m.id, v.version),
      models.listAliasMoves(m.id, alias),
    ]);
    const names = alias !== undefined ? [alias] : (stored?.policy.protectedAliases ?? []);
    const evaluations: GateEvaluation[] = [];
    for (const name of names) {
      const current = aliases.find((a) => a.alias === name)?.version ?? null;
      evaluations.push(await evaluateGate(models, m, name, v, current, stored));
    }
    return {
      model: m.name,
      version: v.version,
      policy: stored?.policy ?? null,
      evaluations,
      approvals,
      moves: moves.filter((mv) => mv.toVersion === v.version && mv.checks !== null),
    };
  }
}
