import { AppError } from '../../core/index.ts';

/** True for a unique or primary-key violation on SQLite or Postgres. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Parses a JSON column written by us; a corrupt value reads as null rather than crashing a list. */
export function parseJsonColumn<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** Runs an insert; a unique-key conflict becomes ALREADY_EXISTS with `message`, on either backend. */
export async function uniqueInsert(insert: Promise<unknown>, message: string): Promise<void> {
  try {
    await insert;
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('ALREADY_EXISTS', message);
    throw e;
  }
}
