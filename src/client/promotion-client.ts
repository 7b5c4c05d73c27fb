import type { AliasMove, Approval, GateCheck, PromotionPolicy } from '../registry/index.ts';
import type { HttpClient, Query } from './http.ts';

export interface PolicyInfo {
  model: string;
  modelId: string;
  policy: PromotionPolicy;
  /** The text as submitted. */
  source: string;
  updatedAt: number;
  updatedBy: string;
}

export interface GateReportView {
  model: string;
  version: number;
  policy: PromotionPolicy | null;
  evaluations: { alias: string; protected: boolean; currentVersion: number | null; passed: boolean; checks: GateCheck[] }[];
  approvals: Approval[];
  moves: AliasMove[];
}

const modelPath = (model: string) => `api/v1/models/${encodeURIComponent(model)}`;

/** Promotion gates: policies, approvals and gate dry runs; `KeelClient.promotion`. */
export class PromotionApi {
  constructor(
    private readonly http: HttpClient,
    private readonly q: (extra?: Query) => Query,
  ) {}

  /** Sets the model's policy (admin) from YAML text or a policy object. */
  setPolicy(model: string, policy: string | Record<string, unknown>): Promise<PolicyInfo> {
    return this.http.json('PUT', `${modelPath(model)}/policy`, {
      query: this.q(),
      json: typeof policy === 'string' ? { yaml: policy } : { policy },
    });
  }

  getPolicy(model: string): Promise<PolicyInfo> {
    return this.http.json('GET', `${modelPath(model)}/policy`, { query: this.q() });
  }

  /** Approves a version (number or alias) for `alias`, or for every protected alias when omitted (deployer). */
  approve(
    model: string,
    version: number | string,
    opts: { alias?: string; comment?: string } = {},
  ): Promise<Approval & { model: string; created: boolean }> {
    return this.http.json('POST', `${modelPath(model)}/versions/${encodeURIComponent(String(version))}/approvals`, {
      query: this.q(),
      json: opts,
    });
  }

  /** Dry-runs the gate for a version (nothing moves) and lists checks stored with past moves to it. */
  gates(model: string, version: number | string, alias?: string): Promise<GateReportView> {
    return this.http.json('GET', `${modelPath(model)}/versions/${encodeURIComponent(String(version))}/gates`, {
      query: this.q({ alias }),
    });
  }
}
