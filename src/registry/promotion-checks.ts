import { type Role, rolePermissions } from '../auth/index.ts';
import { compareSignature } from './onnx/index.ts';
import type { Approval, MetricBound, PromotionPolicy, RegressionMetric } from './promotion-types.ts';
import type { GateCheck, ModelVersion } from './registry-types.ts';

/** Everything one gate evaluation looks at, loaded by the caller (inside the move's transaction). */
export interface PromotionInputs {
  policy: PromotionPolicy;
  /** The protected alias being moved. */
  alias: string;
  candidate: ModelVersion;
  /** The version the alias points at now. */
  current: ModelVersion | null;
  /** The baseline for `no_regression`: the version holding its reference alias. */
  reference: { alias: string; version: ModelVersion | null };
  /** Approvals of the candidate for this alias or for every alias. */
  approvals: Approval[];
}

// Thresholds written in YAML (0.7) and metrics computed in float64 must not fail on the last bit.
const eps = 1e-12;
const fmt = (n: number) => String(Number(n.toPrecision(6)));
const short = (digest: string) => (digest.length > 19 ? `${digest.slice(0, 19)}…` : digest);

function metricCheck(v: ModelVersion, name: string, bound: MetricBound): GateCheck {
  const value = v.manifest.metrics[name];
  const check = { name: `metrics.${name}`, threshold: bound };
  if (value === undefined)
    return { ...check, passed: false, value: null, message: `version ${v.version} reports no metric '${name}'` };
  if (bound.min !== undefined && value < bound.min - eps) {
    return { ...check, passed: false, value, message: `${name} ${fmt(value)} is below the minimum ${bound.min}` };
  }
  if (bound.max !== undefined && value > bound.max + eps) {
    return { ...check, passed: false, value, message: `${name} ${fmt(value)} is above the maximum ${bound.max}` };
  }
  return { ...check, passed: true, value, message: `${name} ${fmt(value)} is within bounds` };
}

function regressionCheck(c: ModelVersion, ref: ModelVersion, refAlias: string, m: RegressionMetric): GateCheck {
  const value = c.manifest.metrics[m.name];
  const base = ref.manifest.metrics[m.name];
  const name = `no_regression.${m.name}`;
  const threshold = { reference: base ?? null, referenceVersion: ref.version, direction: m.direction, tolerance: m.tolerance };
  if (value === undefined || base === undefined) {
    const missing = value === undefined ? `version ${c.version}` : `${refAlias} (version ${ref.version})`;
    return {
      name,
      passed: false,
      value: value ?? null,
      threshold,
      message: `${missing} reports no metric '${m.name}' to compare`,
    };
  }
  const worse = m.direction === 'higher' ? base - value : value - base;
  const passed = worse <= m.tolerance + eps;
  const change = worse > 0 ? `worse by ${fmt(worse)}` : `not worse (${m.direction} is better)`;
  return {
    name,
    passed,
    value,
    threshold,
    message: `${m.name} ${fmt(value)} vs ${fmt(base)} on ${refAlias} (version ${ref.version}): ${change}, tolerance ${m.tolerance}`,
  };
}

function noRegressionChecks(i: PromotionInputs, spec: NonNullable<PromotionPolicy['checks']['noRegression']>): GateCheck[] {
  const { alias: refAlias, version: ref } = i.reference;
  if (!ref) {
    return [
      {
        name: 'no_regression',
        passed: true,
        value: null,
        threshold: refAlias,
        message: `no version holds '${refAlias}' yet: nothing to regress against`,
      },
    ];
  }
  const mine = i.candidate.manifest.lineage.evalDatasetDigest ?? null;
  const theirs = ref.manifest.lineage.evalDatasetDigest ?? null;
  const same = mine !== null && mine === theirs;
  const message =
    mine === null || theirs === null
      ? `${mine === null ? `version ${i.candidate.version}` : `${refAlias} (version ${ref.version})`} records no evaluation dataset digest (lineage.evalDatasetDigest): regression is measured only on the same pinned evaluation dataset`
      : same
        ? `both evaluated on ${short(mine)}`
        : `version ${i.candidate.version} was evaluated on ${short(mine)} but ${refAlias} (version ${ref.version}) on ${short(theirs)}: metrics are comparable only on the same pinned evaluation dataset`;
  const digestCheck: GateCheck = { name: 'no_regression.eval_dataset', passed: same, value: mine, threshold: theirs, message };
  // Metrics measured on different data say nothing about regression; the digest check alone explains the refusal.
  if (!same) return [digestCheck];
  return [digestCheck, ...spec.metrics.map((m) => regressionCheck(i.candidate, ref, refAlias, m))];
}

function segmentGapChecks(v: ModelVersion, spec: NonNullable<PromotionPolicy['checks']['maxSegmentGap']>): GateCheck[] {
  const checks: GateCheck[] = [];
  const metrics = v.manifest.metrics;
  for (const [metric, threshold] of Object.entries(spec.metrics)) {
    const suffix = `.${metric}`;
    const segments =
      spec.segments.length > 0
        ? spec.segments
        : Object.keys(metrics)
            .filter((k) => k.startsWith('gap.') && k.endsWith(suffix) && k.length > 4 + suffix.length)
            .map((k) => k.slice(4, -suffix.length))
            .sort();
    if (segments.length === 0) {
      checks.push({
        name: `max_segment_gap.${metric}`,
        passed: false,
        value: null,
        threshold,
        message: `version ${v.version} reports no gap.<segment>.${metric} metric: evaluate it per segment`,
      });
    }
    for (const segment of segments) {
      const key = `gap.${segment}.${metric}`;
      const gap = metrics[key];
      const name = `max_segment_gap.${segment}.${metric}`;
      if (gap === undefined) {
        checks.push({ name, passed: false, value: null, threshold, message: `version ${v.version} reports no metric '${key}'` });
        continue;
      }
      const passed = Math.abs(gap) <= threshold + eps;
      const verdict = passed ? 'within' : 'over';
      checks.push({ name, passed, value: gap, threshold, message: `${key} ${fmt(gap)} is ${verdict} the limit ${threshold}` });
    }
  }
  return checks;
}

function signatureCheck(i: PromotionInputs): GateCheck {
  const name = 'signature_compatible';
  const cur = i.current;
  if (!cur || cur.version === i.candidate.version) {
    const message = cur ? `version ${cur.version} already holds '${i.alias}'` : `no version holds '${i.alias}' yet`;
    return { name, passed: true, value: 'compatible', threshold: cur ? `version ${cur.version}` : null, message };
  }
  const m = i.candidate.manifest;
  const problems = compareSignature(cur.manifest.signature, { ...m.signature, opsets: m.opsets, producer: m.producer });
  return {
    name,
    passed: problems.length === 0,
    value: problems.length === 0 ? 'compatible' : problems,
    threshold: `version ${cur.version}`,
    message:
      problems.length === 0
        ? `accepts the inputs and returns the outputs of version ${cur.version} ('${i.alias}')`
        : `callers of '${i.alias}' (version ${cur.version}) would break: ${problems.join('; ')}`,
  };
}

/** Roles whose approvals count: those allowed to approve (deployer, admin). */
export const canApprove = (role: string): boolean => rolePermissions[role as Role]?.has('model:approve') === true;

function approvalsCheck(i: PromotionInputs, needed: number): GateCheck {
  const proposer = i.candidate.createdBy;
  const approvers = [...new Set(i.approvals.filter((a) => a.approver !== proposer && canApprove(a.role)).map((a) => a.approver))];
  const passed = approvers.length >= needed;
  const who = approvers.length > 0 ? ` (${approvers.join(', ')})` : '';
  return {
    name: 'approvals',
    passed,
    value: approvers.length,
    threshold: needed,
    message: passed
      ? `${approvers.length} of ${needed} approvals for '${i.alias}'${who}`
      : `${approvers.length} of ${needed} approvals for '${i.alias}'${who}: needs ${needed - approvers.length} more from a deployer or admin other than the proposer ${proposer}`,
  };
}

/** Runs every check of the policy; the order is stable so stored results read the same way each time. */
export function runPromotionChecks(i: PromotionInputs): GateCheck[] {
  const c = i.policy.checks;
  const checks = Object.entries(c.metrics).map(([name, bound]) => metricCheck(i.candidate, name, bound));
  if (c.noRegression) checks.push(...noRegressionChecks(i, c.noRegression));
  if (c.maxSegmentGap) checks.push(...segmentGapChecks(i.candidate, c.maxSegmentGap));
  if (c.signatureCompatible) checks.push(signatureCheck(i));
  if (c.approvals > 0) checks.push(approvalsCheck(i, c.approvals));
  return checks;
}
