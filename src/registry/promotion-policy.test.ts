import { describe, expect, it } from 'vitest';
import type { AppError } from '../core/index.ts';
import { checkPromotionPolicy, defaultDirection, parsePromotionPolicy } from './promotion-policy.ts';

const refusal = (text: string) => {
  try {
    parsePromotionPolicy(text);
  } catch (e) {
    return e as AppError;
  }
  throw new Error('the policy was accepted');
};

describe('promotion policy', () => {
  it('parses the documented YAML and fills in every default', () => {
    const policy = parsePromotionPolicy(`
protected_aliases: [champion, production]
checks:
  metrics:
    auc: { min: 0.7 }
    log_loss: { max: 0.5 }
  no_regression:
    tolerance: 0.01
    metrics:
      auc: {}
      log_loss: { tolerance: 0.02 }
      calibration: { direction: lower }
  max_segment_gap:
    segments: [origin_group]
    metrics: { auc: 0.05 }
  signature_compatible: true
  approvals: 2
`);
    expect(policy).toEqual({
      protectedAliases: ['champion', 'production'],
      checks: {
        metrics: { auc: { min: 0.7 }, log_loss: { max: 0.5 } },
        noRegression: {
          against: null,
          metrics: [
            { name: 'auc', direction: 'higher', tolerance: 0.01 },
            { name: 'log_loss', direction: 'lower', tolerance: 0.02 },
            { name: 'calibration', direction: 'lower', tolerance: 0.01 },
          ],
        },
        maxSegmentGap: { segments: ['origin_group'], metrics: { auc: 0.05 } },
        signatureCompatible: true,
        approvals: 2,
      },
    });
  });

  it('accepts a list of regression metrics and the same policy as a JSON object', () => {
    const fromYaml = parsePromotionPolicy(
      'protected_aliases: [prod]\nchecks: { no_regression: { against: champion, metrics: [auc, rmse] } }',
    );
    const fromJson = checkPromotionPolicy({
      protected_aliases: ['prod'],
      checks: { no_regression: { against: 'champion', metrics: ['auc', 'rmse'] } },
    });
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml.checks.noRegression).toEqual({
      against: 'champion',
      metrics: [
        { name: 'auc', direction: 'higher', tolerance: 0 },
        { name: 'rmse', direction: 'lower', tolerance: 0 },
      ],
    });
  });

  it('infers lower-is-better for losses and errors only', () => {
    for (const m of ['log_loss', 'loss', 'val.loss', 'error_rate', 'rmse', 'mae', 'brier', 'eval_mse']) {
      expect(defaultDirection(m), m).toBe('lower');
    }
    for (const m of ['auc', 'accuracy', 'f1', 'precision', 'recall', 'msel', 'gap.origin.auc']) {
      expect(defaultDirection(m), m).toBe('higher');
    }
  });

  it('allows a policy that protects nothing, with or without checks', () => {
    expect(parsePromotionPolicy('protected_aliases: []').protectedAliases).toEqual([]);
  });

  it('refuses malformed YAML and wrong shapes with INVALID_POLICY naming the key to fix', () => {
    const cases: [string, string][] = [
      ['protected_aliases: [champion\nchecks: {', 'malformed YAML'],
      ['- a\n- b', 'a policy is a mapping'],
      ['checks: { approvals: 1 }', 'protected_aliases'],
      ['protected_aliases: [champion]', 'protected aliases need at least one check'],
      ['protected_aliases: [Champion]\nchecks: { approvals: 1 }', 'protected_aliases.0: aliases are 1–64 lowercase'],
      ['protected_aliases: [v2]\nchecks: { approvals: 1 }', "protected_aliases.0: 'v2' cannot be an alias"],
      ['protected_aliases: [champion]\nchecks: { metrics: { auc: {} } }', 'checks.metrics.auc: give min, max or both'],
      ['protected_aliases: [champion]\nchecks: { metrics: { auc: { min: 0.9, max: 0.1 } } }', 'min is greater than max'],
      ['protected_aliases: [champion]\nchecks: { metrics: { auc: { min: high } } }', 'checks.metrics.auc.min'],
      ['protected_aliases: [champion]\nchecks: { metrics: { auc: { above: 1 } } }', 'checks.metrics.auc'],
      ['protected_aliases: [champion]\nchecks: { no_regression: { metrics: [] } }', 'checks.no_regression.metrics'],
      [
        'protected_aliases: [champion]\nchecks: { no_regression: { metrics: { auc: { direction: up } } } }',
        'direction is higher (higher is better) or lower',
      ],
      ['protected_aliases: [champion]\nchecks: { no_regression: { tolerance: -1, metrics: [auc] } }', 'must be 0 or more'],
      ['protected_aliases: [champion]\nchecks: { max_segment_gap: { metrics: {} } }', 'checks.max_segment_gap.metrics'],
      ['protected_aliases: [champion]\nchecks: { max_segment_gap: { auc: 0.1 } }', 'checks.max_segment_gap'],
      ['protected_aliases: [champion]\nchecks: { approvals: 1.5 }', 'checks.approvals: must be a whole number'],
      ['protected_aliases: [champion]\nchecks: { approvals: 2 }\nextra: 1', 'extra'],
      ['protected_aliases: [champion]\nchecks: { approvals: 1, approvals: 2 }', 'malformed YAML'],
    ];
    for (const [text, expected] of cases) {
      const e = refusal(text);
      expect(e.code, text).toBe('INVALID_POLICY');
      expect(e.message, text).toContain(expected);
      expect(e.message, text).toMatch(/^invalid promotion policy: /);
    }
  });
});
