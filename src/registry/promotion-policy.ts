import { parseDocument } from 'yaml';
import { z } from 'zod';
import { AppError } from '../core/index.ts';
import type { MetricDirection, PromotionPolicy, RegressionMetric } from './promotion-types.ts';

export interface PolicyIssue {
  path: string;
  message: string;
}

const invalid = (issues: PolicyIssue[]): AppError =>
  new AppError(
    'INVALID_POLICY',
    `invalid promotion policy: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`,
    {
      issues,
    },
  );

const metricName = z.string().min(1).max(250);
const aliasName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'aliases are 1–64 lowercase letters, digits, _ or -, starting with a letter');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const nonNegative = finite.refine((n) => n >= 0, 'must be 0 or more');
const direction = z.enum(['higher', 'lower'], { error: () => 'direction is higher (higher is better) or lower' });

const regressionMetric = z.object({ direction: direction.optional(), tolerance: nonNegative.optional() }).strict();

/** The YAML/JSON shape, before semantic checks. */
const policySchema = z
  .object({
    protected_aliases: z.array(aliasName).max(100),
    checks: z
      .object({
        metrics: z.record(metricName, z.object({ min: finite.optional(), max: finite.optional() }).strict()).optional(),
        no_regression: z
          .object({
            against: aliasName.optional(),
            tolerance: nonNegative.optional(),
            // `[auc, log_loss]` is short for `{auc: {}, log_loss: {}}`: every default.
            metrics: z.preprocess(
              (v) =>
                Array.isArray(v) && v.every((x) => typeof x === 'string') ? Object.fromEntries(v.map((x) => [x, null])) : v,
              z.record(metricName, regressionMetric.nullable()),
            ),
          })
          .strict()
          .optional(),
        max_segment_gap: z
          .object({
            segments: z.array(z.string().min(1).max(250)).max(1000).optional(),
            metrics: z.record(metricName, nonNegative),
          })
          .strict()
          .optional(),
        signature_compatible: z.boolean().optional(),
        approvals: z.number().int('must be a whole number').min(0).max(20).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

type RawPolicy = z.infer<typeof policySchema>;

/** Losses and errors improve downwards; everything else (auc, accuracy, f1…) upwards. */
export function defaultDirection(metric: string): MetricDirection {
  const m = metric.toLowerCase();
  return /loss|error|^(r?mse|mae|mape|brier)$|(^|[._-])(r?mse|mae|mape|brier)$/.test(m) ? 'lower' : 'higher';
}

function checkPolicy(raw: RawPolicy): PromotionPolicy {
  const issues: PolicyIssue[] = [];
  const c = raw.checks;
  const metrics: PromotionPolicy['checks']['metrics'] = {};
  for (const [name, b] of Object.entries(c.metrics ?? {})) {
    if (b.min === undefined && b.max === undefined)
      issues.push({ path: `checks.metrics.${name}`, message: 'give min, max or both' });
    if (b.min !== undefined && b.max !== undefined && b.min > b.max)
      issues.push({ path: `checks.metrics.${name}`, message: 'min is greater than max' });
    metrics[name] = { ...(b.min !== undefined ? { min: b.min } : {}), ...(b.max !== undefined ? { max: b.max } : {}) };
  }
  let noRegression: PromotionPolicy['checks']['noRegression'] = null;
  if (c.no_regression) {
    const nr = c.no_regression;
    const tolerance = nr.tolerance ?? 0;
    const entries = Object.entries(nr.metrics);
    if (entries.length === 0) issues.push({ path: 'checks.no_regression.metrics', message: 'list at least one metric' });
    const list: RegressionMetric[] = entries.map(([name, o]) => ({
      name,
      direction: o?.direction ?? defaultDirection(name),
      tolerance: o?.tolerance ?? tolerance,
    }));
    noRegression = { against: nr.against ?? null, metrics: list };
  }
  let maxSegmentGap: PromotionPolicy['checks']['maxSegmentGap'] = null;
  if (c.max_segment_gap) {
    if (Object.keys(c.max_segment_gap.metrics).length === 0)
      issues.push({ path: 'checks.max_segment_gap.metrics', message: 'give at least one metric and its largest allowed gap' });
    maxSegmentGap = { segments: [...new Set(c.max_segment_gap.segments ?? [])], metrics: { ...c.max_segment_gap.metrics } };
  }
  const policy: PromotionPolicy = {
    protectedAliases: [...new Set(raw.protected_aliases)],
    checks: {
      metrics,
      noRegression,
      maxSegmentGap,
      signatureCompatible: c.signature_compatible ?? false,
      approvals: c.approvals ?? 0,
    },
  };
  for (const [i, a] of policy.protectedAliases.entries()) {
    if (a === 'latest' || /^v\d+$/.test(a)) issues.push({ path: `protected_aliases.${i}`, message: `'${a}' cannot be an alias` });
  }
  if (policy.protectedAliases.length > 0 && !hasAnyCheck(policy)) {
    issues.push({
      path: 'checks',
      message:
        'protected aliases need at least one check (metrics, no_regression, max_segment_gap, signature_compatible, approvals)',
    });
  }
  if (issues.length > 0) throw invalid(issues);
  return policy;
}

const hasAnyCheck = ({ checks: c }: PromotionPolicy) =>
  Object.keys(c.metrics).length > 0 ||
  c.noRegression !== null ||
  c.maxSegmentGap !== null ||
  c.signatureCompatible ||
  c.approvals > 0;

/** A policy object (from JSON, or parsed YAML) → a checked policy; INVALID_POLICY names each key to fix. */
export function checkPromotionPolicy(data: unknown): PromotionPolicy {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw invalid([{ path: '', message: 'a policy is a mapping with protected_aliases and checks' }]);
  }
  const parsed = policySchema.safeParse(data);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
  }
  return checkPolicy(parsed.data);
}

/** YAML (or JSON, which is YAML) text → a checked policy. */
export function parsePromotionPolicy(text: string): PromotionPolicy {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw invalid(doc.errors.slice(0, 5).map((e) => ({ path: '', message: `malformed YAML: ${e.message.split('\n')[0]}` })));
  }
  return checkPromotionPolicy(doc.toJS({ maxAliasCount: 100 }));
}
