import pg from 'pg';
import { AppError } from '../../core/index.ts';

export const statementTimeout = '57014';

/**
 * Server errors that say the database cannot serve now, not that the query is wrong: connection
 * exceptions (class 08), an administrator or crash shutdown and a server still starting (57P01–
 * 57P03, as during a restart or failover), too many connections (53300).
 */
const unavailableCodes = /^(08...|57P0[1-3]|53300)$/;

/** UNAVAILABLE for a failure to reach or hear from the database; null for an error of the query itself. */
export function asUnavailable(e: unknown, queryTimeoutMs: number): AppError | null {
  if (e instanceof pg.DatabaseError) {
    if (e.code === statementTimeout) {
      return new AppError('UNAVAILABLE', `the metadata database did not answer within ${queryTimeoutMs} ms`);
    }
    return e.code && unavailableCodes.test(e.code)
      ? new AppError('UNAVAILABLE', `the metadata database cannot serve now (${e.code}: ${e.message})`.slice(0, 500))
      : null;
  }
  const message = e instanceof Error ? e.message : '';
  if (message === 'Query read timeout') {
    return new AppError('UNAVAILABLE', `the metadata database did not answer within ${queryTimeoutMs} ms`);
  }
  const transport =
    typeof (e as NodeJS.ErrnoException | null)?.syscall === 'string' ||
    /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed)/.test(
      message,
    );
  return transport ? new AppError('UNAVAILABLE', 'the metadata database is unreachable') : null;
}
