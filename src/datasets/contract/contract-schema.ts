import { z } from 'zod';
import { fieldTypes } from './contract-types.ts';

/** The YAML shape of a data contract, before semantic checks (see parse-contract.ts). */
const scalar = z.union([z.string().max(1000), z.number(), z.boolean()]);
const bound = z.union([z.number(), z.string().max(64)]);
const fieldName = z.string().min(1).max(256);

export const fieldSchema = z
  .object({
    type: z.enum(fieldTypes, { error: () => `unknown type; use one of ${fieldTypes.join(', ')}` }),
    required: z.boolean().optional(),
    nullable: z.boolean().optional(),
    unique: z.boolean().optional(),
    min: bound.optional(),
    max: bound.optional(),
    allowed: z.array(scalar).min(1).max(100_000).optional(),
    pattern: z.string().min(1).max(1000).optional(),
    description: z.string().max(5000).optional(),
  })
  .strict();

const qualityBody = z.object({ field: fieldName, mustBeLessThan: z.union([z.number(), z.string().max(64)]) }).strict();

export const contractSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'names are 1–128 letters, digits, _ . or -, starting with a letter or digit'),
    description: z.string().max(5000).optional(),
    policy: z.enum(['strict', 'warn'], { error: () => 'policy is strict or warn' }).default('strict'),
    fields: z.record(fieldName, fieldSchema).default({}),
    freshness: z
      .object({ field: fieldName, max_staleness: z.union([z.string().max(64), z.number()]), as_of: bound.optional() })
      .strict()
      .optional(),
    volume: z
      .object({ min_rows: z.number().int().min(0).optional(), max_rows: z.number().int().min(0).optional() })
      .strict()
      .optional(),
    quality: z
      .array(z.union([z.object({ null_share: qualityBody }).strict(), z.object({ invalid_share: qualityBody }).strict()]))
      .max(1000)
      .default([]),
  })
  .strict();

export type RawContract = z.infer<typeof contractSchema>;
export type RawField = z.infer<typeof fieldSchema>;
