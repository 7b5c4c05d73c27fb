import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';

/**
 * A cheap test that a value already is exactly what a zod schema's parse would return: when it
 * says yes, zod would have accepted the value and returned an equal copy, so the copy is skipped.
 * When it says no, zod runs as usual and writes the error, so every refusal keeps zod's message.
 * It may say no to values zod accepts (extra keys zod would strip, shapes it does not bother
 * with); it must never say yes to one zod refuses (`fast-validation.test.ts` holds each to that).
 */
export type FastAccept = (value: unknown) => boolean;

const fastAccepts = new WeakMap<object, FastAccept>();

/** Registers `accept` as the fast path of `schema` (for the hottest routes: the profiles' zod share of /v2 infer). */
export function withFastAccept<S extends z.ZodType>(schema: S, accept: FastAccept): S {
  fastAccepts.set(schema, accept);
  return schema;
}

/** The fast path registered for `schema`, if any (tests). */
export const fastAcceptOf = (schema: object): FastAccept | undefined => fastAccepts.get(schema);

/** fastify-type-provider-zod's validator compiler, taking a schema's fast path first where it has one. */
export const keelValidatorCompiler: FastifySchemaCompiler<z.ZodType> = (route) => {
  const full = validatorCompiler(route);
  const accept = fastAccepts.get(route.schema);
  if (!accept) return full;
  return (value) => (accept(value) ? { value } : full(value));
};

// Building blocks for the fast paths: plain loops, no closures made per call.

/** A JSON object (not null, not an array). */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every key of `obj` is one of `allowed`: zod strips any other, so the value it returns would differ. */
export function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const key in obj) if (!allowed.includes(key)) return false;
  return true;
}

/** A string of at most `max` UTF-16 units (zod's `.max()`), and at least `min`. */
export const isShortString = (v: unknown, max: number, min = 0): boolean =>
  typeof v === 'string' && v.length <= max && v.length >= min;

/** `z.record(z.string().max(maxKey), z.unknown())`: a JSON object whose keys are short enough. */
export function isRecordWithShortKeys(v: unknown, maxKey: number): boolean {
  if (!isPlainObject(v)) return false;
  for (const key in v) if (key.length > maxKey || key === '__proto__') return false;
  return true;
}
