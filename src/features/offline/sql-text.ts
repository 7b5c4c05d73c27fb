import { AppError } from '../../core/index.ts';
import { sqlIdent, sqlString } from '../../storage/index.ts';

export const ident = sqlIdent;
export const literal = sqlString;

/** A timestamp literal from epoch ms (microsecond precision, UTC). */
export const tsLiteral = (ms: number): string => `make_timestamp(${Math.round(ms * 1000)}::BIGINT)`;

/** An interval literal from ms. */
export const intervalMs = (ms: number): string => `to_microseconds(${Math.round(ms * 1000)}::BIGINT)`;

const forbidden =
  /;|\b(read_\w+|copy|attach|detach|install|load|pragma|set|export|import|glob|query_table|call|create|drop|insert|update|delete|alter)\b/i;

/**
 * Feature expressions are DuckDB scalar expressions over one source row. They are code from a
 * scientist's definitions, but they must stay expressions: no statements, file access or
 * extension loading from inside a feature.
 */
export function checkExpression(expr: string, where: string): string {
  if (forbidden.test(expr)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${where}: expression '${expr.slice(0, 80)}' may only use columns, operators and scalar functions`,
    );
  }
  return expr;
}
