import { AppError } from './errors.ts';

/**
 * The errors a service has already counted in its request metrics. A serving route's error hook
 * sees every refusal: the ones the service threw, and the ones refused before the service ran
 * (authentication, malformed JSON, a body the schema rejects). Each must be counted once, so the
 * hook counts only the errors this set has not seen.
 */
export class CountedErrors {
  private readonly seen = new WeakSet<object>();

  /** Notes `error` as counted; returns the code it is counted under. */
  count(error: unknown): string {
    if (typeof error === 'object' && error !== null) this.seen.add(error);
    return errorCode(error);
  }

  has(error: unknown): boolean {
    return typeof error === 'object' && error !== null && this.seen.has(error);
  }
}

/** The stable code a request is answered with: the AppError's, or INTERNAL for anything else. */
const errorCode = (error: unknown): string => (error instanceof AppError ? error.code : 'INTERNAL');
