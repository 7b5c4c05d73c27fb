import { AppError } from '../../core/index.ts';
import type { AnalyticsEngine } from '../../storage/index.ts';
import type { ColumnSchema } from '../dataset-types.ts';
import { toJsonRow } from '../json-values.ts';
import { sqlString } from '../sql-text.ts';
import { compileContract } from './compile-contract.ts';
import type { CheckResult, Contract, ValidationReport } from './contract-types.ts';
import { relationName } from './row-checks.ts';

export const maxSamples = 20;

export interface RunContractInput {
  /** A DuckDB FROM-clause relation, e.g. read_parquet('…'). */
  relation: string;
  columns: ColumnSchema[];
  contract: Contract;
  contractVersion: number | null;
  /** Freshness is measured against this time (epoch ms). */
  asOf: number;
}

/** JS and RE2 disagree on some syntax; ask DuckDB first so a bad pattern names its field. */
async function checkPatterns(engine: AnalyticsEngine, contract: Contract): Promise<void> {
  for (const [field, rule] of Object.entries(contract.fields)) {
    if (rule.pattern === undefined) continue;
    try {
      await engine.all(`SELECT regexp_matches('', ${sqlString(rule.pattern)}) AS m`);
    } catch (e) {
      throw new AppError(
        'INVALID_CONTRACT',
        `invalid contract: fields.${field}.pattern: DuckDB (RE2) cannot compile it: ${(e as Error).message.split('\n')[0]}`,
        {
          issues: [{ path: `fields.${field}.pattern`, message: 'not an RE2 regular expression' }],
        },
      );
    }
  }
}

/**
 * Validates a relation against a contract: every check's observed value comes from ONE aggregate
 * query; only failing row-level checks cost one more small query each, for up to 20 sample rows.
 */
export async function runContract(engine: AnalyticsEngine, input: RunContractInput): Promise<ValidationReport> {
  const { contract, relation } = input;
  const compiled = compileContract(contract, input.columns);
  await checkPatterns(engine, contract);
  const aggregates: string[] = [];
  const slices = compiled.checks.map((c) => {
    const start = aggregates.length;
    aggregates.push(...c.aggregates);
    return [start, aggregates.length] as const;
  });
  const select = ['count(*) AS n', ...aggregates.map((a, i) => `${a} AS a${i}`)].join(',\n  ');
  const [row] = await engine.all(`SELECT ${select}\nFROM ${relation}`);
  const values = aggregates.map((_, i) => row?.[`a${i}`]);
  const rows = Number(row?.n ?? 0);
  const ctx = { rows, asOf: input.asOf };
  const measured: CheckResult[] = await Promise.all(
    compiled.checks.map(async (check, i) => {
      const [from, to] = slices[i] as readonly [number, number];
      const outcome = check.evaluate(values.slice(from, to), ctx);
      const samples =
        !outcome.passed && check.violation
          ? (
              await engine.all(
                `WITH ${relationName} AS (SELECT * FROM ${relation})\nSELECT * FROM ${relationName} WHERE ${check.violation} LIMIT ${maxSamples}`,
              )
            ).map(toJsonRow)
          : [];
      return {
        name: check.name,
        kind: check.kind,
        field: check.field,
        passed: outcome.passed,
        observed: outcome.observed,
        threshold: check.threshold,
        ...(check.unit ? { unit: check.unit } : {}),
        failingRows: outcome.failingRows,
        message: outcome.message,
        samples,
        ...(outcome.details ? { details: outcome.details } : {}),
      };
    }),
  );
  const checks = [...compiled.schemaResults, ...measured];
  const failed = checks.filter((c) => !c.passed).length;
  return {
    contract: { name: contract.name, version: input.contractVersion, policy: contract.policy },
    passed: failed === 0,
    rows,
    asOf: input.asOf,
    failed,
    checks,
  };
}
