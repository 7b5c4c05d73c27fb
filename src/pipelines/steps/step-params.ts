import type { z } from 'zod';
import { StepError } from '../step-kind.ts';

/** Parses a step's params with its kind's schema; problems name the param. */
export function parseStepParams<S extends z.ZodType>(schema: S, params: unknown): z.output<S> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    throw new StepError(parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}
