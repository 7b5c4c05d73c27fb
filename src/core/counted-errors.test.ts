import { describe, expect, it } from 'vitest';
import { CountedErrors } from './counted-errors.ts';
import { AppError } from './errors.ts';

describe('CountedErrors', () => {
  it('remembers the errors it counted, under their code, and only those', () => {
    const counted = new CountedErrors();
    const refused = new AppError('NOT_FOUND', 'no such model');
    const crash = new Error('boom');
    expect(counted.count(refused)).toBe('NOT_FOUND');
    expect(counted.count(crash)).toBe('INTERNAL');
    expect(counted.has(refused)).toBe(true);
    expect(counted.has(crash)).toBe(true);
    expect(counted.has(new AppError('NOT_FOUND', 'no such model'))).toBe(false);
    // Thrown non-objects cannot be remembered: the hook counts them (they never reach it counted).
    expect(counted.count('a string')).toBe('INTERNAL');
    expect(counted.has('a string')).toBe(false);
  });
});
