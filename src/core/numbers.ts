import { z } from 'zod';

/**
 * Numbers that land in SQL columns must fit them on every backend: SQLite stores any integer,
 * Postgres refuses one past its column type and the request would end as a 500. Bounding the
 * request schemas turns that into a 400 that names the field.
 */

/** Versions and revisions live in 32-bit `integer` columns. */
export const maxVersionNumber = 2_147_483_647;
export const versionNumber = z.number().int().min(1).max(maxVersionNumber);
/** A version number in a query string. */
export const versionQuery = z.coerce.number().int().min(1).max(maxVersionNumber);
/** Steps and other 64-bit columns: kept to integers JavaScript holds exactly. */
export const safeInteger = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
