import { z } from 'zod';
import { isPlainObject, isShortString, onlyKeys, withFastAccept } from '../fast-validation.ts';

/** Shared request pieces. Names are restricted so they are safe in URLs, files and shells. */
export const projectName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'project names are 1–64 lowercase letters, digits, _ or -');
export const resourceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'names are 1–128 letters, digits, _ . or -, starting with a letter or digit');
export const experimentName = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !/[\u0000-\u001f]/.test(s), 'no control characters');

export const projectQuery = withFastAccept(
  z.object({ project: z.string().max(128).optional() }),
  (q) => isPlainObject(q) && onlyKeys(q, ['project']) && (q.project === undefined || isShortString(q.project, 128)),
);
export const keyValue = z.object({ key: z.string().max(250), value: z.string() });
export const epochMs = z.number().int().min(0).max(8.64e15);
export const limitQuery = z.coerce.number().int().min(1).max(1000).optional();

/** A repeated or comma-separated query value. */
export const listQuery = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

/** Accepts epoch ms or an ISO-8601 time in query strings. */
export const timeQuery = z.string().transform((s, c) => {
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  // Bounded like epochMs: digits past 2^53 lose precision and overflow Postgres bigint columns.
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15) {
    c.addIssue({ code: 'custom', message: 'expected epoch milliseconds or an ISO-8601 time (within ±8.64e15 ms)' });
    return z.NEVER;
  }
  return ms;
});
