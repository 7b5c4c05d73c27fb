import { AppError } from '../core/index.ts';
import { type AnalyticsEngine, duckError } from '../storage/index.ts';
import { type Contract, parseContract, runContract, type ValidationReport } from './contract/index.ts';
import type { ContractService } from './contract-service.ts';
import type { ColumnSchema } from './dataset-types.ts';

/** A contract named (`name` or `name@version`, stored) or given inline as YAML. */
export interface ContractRequest {
  contract?: string;
  contractYaml?: string;
}

export interface RequestedContract {
  contract: Contract;
  /** Stored version, or null for inline YAML (stored on registration, not on validate). */
  version: number | null;
  inline: string | null;
}

export async function resolveContractRequest(
  contracts: ContractService,
  projectId: string,
  req: ContractRequest,
): Promise<RequestedContract | null> {
  if (req.contract !== undefined && req.contractYaml !== undefined) {
    throw new AppError('VALIDATION_FAILED', 'give either contract (a stored name) or contractYaml (inline), not both');
  }
  if (req.contractYaml !== undefined)
    return { contract: parseContract(req.contractYaml), version: null, inline: req.contractYaml };
  if (req.contract === undefined) return null;
  return { ...(await contracts.resolve(projectId, req.contract)), inline: null };
}

/** Freshness is measured at the time the request gives, else the contract's `as_of`, else now. */
export async function runValidation(
  engine: AnalyticsEngine,
  relation: string,
  columns: ColumnSchema[],
  requested: RequestedContract,
  times: { asOf?: number | undefined; now: number },
): Promise<ValidationReport> {
  const asOf = times.asOf ?? requested.contract.freshness?.asOf ?? times.now;
  try {
    return await runContract(engine, {
      relation,
      columns,
      contract: requested.contract,
      contractVersion: requested.version,
      asOf,
    });
  } catch (e) {
    throw e instanceof AppError ? e : duckError(e, 'validation failed');
  }
}
