/** Promotion gates: a policy per model, approvals, and the checks they produce (docs/gates.md). */

export type MetricDirection = 'higher' | 'lower';

export interface MetricBound {
  min?: number;
  max?: number;
}

export interface RegressionMetric {
  name: string;
  /** `higher`: a drop is a regression; `lower` (losses, errors): a rise is. */
  direction: MetricDirection;
  /** Absolute slack before a change counts as a regression. */
  tolerance: number;
}

/** A checked, normalized policy: every default filled in, so what is stored is what runs. */
export interface PromotionPolicy {
  protectedAliases: string[];
  checks: {
    /** Thresholds on the candidate's own metrics. */
    metrics: Record<string, MetricBound>;
    noRegression: {
      /** The alias whose current version is the baseline; null: the alias being moved. */
      against: string | null;
      metrics: RegressionMetric[];
    } | null;
    maxSegmentGap: {
      /** Segments that must be reported; empty: every reported segment is checked. */
      segments: string[];
      /** Largest allowed `gap.<segment>.<metric>` per metric. */
      metrics: Record<string, number>;
    } | null;
    /** The candidate must accept the inputs and return the outputs of the alias's current version. */
    signatureCompatible: boolean;
    /** Approvals needed from principals allowed to approve (deployer, admin), never the proposer. */
    approvals: number;
  };
}

export interface StoredPolicy {
  modelId: string;
  policy: PromotionPolicy;
  /** The text as submitted (YAML or JSON), for `policy show`. */
  source: string;
  updatedAt: number;
  updatedBy: string;
}

export interface Approval {
  modelId: string;
  version: number;
  /** The protected alias approved for; null approves the version for every protected alias. */
  alias: string | null;
  approver: string;
  /** The approver's role when approving. */
  role: string;
  comment: string;
  at: number;
}
