import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { asUnavailable } from './database-errors.ts';

const serverError = (code: string, message = 'server says no') => {
  const e = new pg.DatabaseError(message, message.length, 'error');
  e.code = code;
  return e;
};

describe('asUnavailable', () => {
  it('calls a restart, failover, overload or lost connection UNAVAILABLE, so clients retry', () => {
    for (const code of ['57P01', '57P02', '57P03', '53300', '08006', '08003', '57014']) {
      expect(asUnavailable(serverError(code), 5000)?.code, code).toBe('UNAVAILABLE');
    }
    expect(asUnavailable(new Error('Query read timeout'), 5000)?.message).toMatch(/within 5000 ms/);
    expect(asUnavailable(new Error('Connection terminated unexpectedly'), 5000)?.code).toBe('UNAVAILABLE');
    expect(asUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { syscall: 'connect' }), 5000)?.code).toBe(
      'UNAVAILABLE',
    );
  });

  it('leaves errors of the query itself alone', () => {
    for (const code of ['23505', '42P01', '22003', '40001']) expect(asUnavailable(serverError(code), 5000), code).toBeNull();
    expect(asUnavailable(new Error('something else'), 5000)).toBeNull();
  });
});
