import { type AuditStore, authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, type Transactor } from '../core/index.ts';
import type { RunStore } from '../tracking/index.ts';
import { type Contract, parseContract } from './contract/index.ts';
import type { ContractStore, DatasetStore } from './dataset-stores.ts';
import type { StoredContract } from './dataset-types.ts';

export interface DatasetStores {
  datasets: DatasetStore;
  dataContracts: ContractStore;
  audit: AuditStore;
  runs: RunStore;
}

export interface ResolvedContract {
  contract: Contract;
  /** The stored version, or null for a contract given inline and not stored. */
  version: number | null;
}

/** `name` (latest) or `name@3`. */
export function parseContractRef(ref: string): { name: string; version: number | null } {
  const m = /^(.+?)(?:@(\d{1,9}))?$/.exec(ref);
  return { name: m?.[1] ?? ref, version: m?.[2] ? Number(m[2]) : null };
}

const sameContract = (stored: StoredContract, yaml: string, parsed: Contract): boolean => {
  if (stored.yaml.trim() === yaml.trim()) return true;
  try {
    return JSON.stringify(parseContract(stored.yaml)) === JSON.stringify(parsed);
  } catch {
    return false;
  }
};

/** Data contracts: named, versioned YAML. Applying an unchanged contract keeps its version. */
export class ContractService {
  constructor(
    private readonly tx: Transactor<DatasetStores>,
    private readonly clock: Clock,
  ) {}

  async apply(actor: Principal, projectId: string, yaml: string): Promise<{ contract: StoredContract; created: boolean }> {
    authorize(actor, 'dataset:write', projectId);
    const parsed = parseContract(yaml);
    // Two applies racing for the same version number: the loser retries and sees the winner's.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.tx.transaction((s) => this.applyIn(s, actor, projectId, yaml, parsed));
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'ALREADY_EXISTS' && attempt < 5)) throw e;
      }
    }
  }

  /** Stores `parsed` as the next version unless it equals the latest; call inside a transaction. */
  async applyIn(s: DatasetStores, actor: Principal, projectId: string, yaml: string, parsed: Contract) {
    const latest = await s.dataContracts.latestContract(projectId, parsed.name);
    if (latest && sameContract(latest, yaml, parsed)) return { contract: latest, created: false };
    const contract: StoredContract = {
      projectId,
      name: parsed.name,
      version: (latest?.version ?? 0) + 1,
      yaml,
      policy: parsed.policy,
      createdAt: this.clock.now(),
      createdBy: actor.id,
    };
    await s.dataContracts.putContract(contract);
    await recordAudit(s.audit, this.clock, actor, {
      action: 'dataset.contract.apply',
      resourceType: 'data_contract',
      resourceId: `${contract.name}@${contract.version}`,
      projectId,
      before: latest ? { version: latest.version } : null,
      after: { name: contract.name, version: contract.version, policy: contract.policy },
    });
    return { contract, created: true };
  }

  async list(actor: Principal, projectId: string): Promise<StoredContract[]> {
    authorize(actor, 'dataset:read', projectId);
    return this.tx.stores.dataContracts.listContracts(projectId);
  }

  async get(actor: Principal, projectId: string, ref: string): Promise<StoredContract> {
    authorize(actor, 'dataset:read', projectId);
    return this.find(projectId, ref);
  }

  private async find(projectId: string, ref: string): Promise<StoredContract> {
    const { name, version } = parseContractRef(ref);
    const store = this.tx.stores.dataContracts;
    const found =
      version === null ? await store.latestContract(projectId, name) : await store.getContract(projectId, name, version);
    if (!found) throw new AppError('NOT_FOUND', `contract '${ref.slice(0, 200)}' does not exist`);
    return found;
  }

  /** A stored contract by reference, parsed; the caller has checked permissions. */
  async resolve(projectId: string, ref: string): Promise<ResolvedContract> {
    const stored = await this.find(projectId, ref);
    return { contract: parseContract(stored.yaml), version: stored.version };
  }
}
