/** Bad flags: the dispatcher prints the message alone (no stack) and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** True for UsageError and for node:util parseArgs' own errors (unknown flag, missing value). */
export function isUsageError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
}
