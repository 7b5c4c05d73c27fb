import { z } from 'zod';
import { versionNumber } from '../core/index.ts';

const refSchema = z.union([
  z.object({ alias: z.string().min(1).max(64) }).strict(),
  z.object({ version: versionNumber }).strict(),
]);

/** How a deployment serves; every field has a default so `keel deploy` needs only the model. */
export const deploymentOptionsSchema = z
  .object({
    /** Per-request deadline for the whole predict path (a request may ask for less). */
    timeoutMs: z.number().int().min(1).max(600_000).default(2_000),
    /** Share of requests written to the inference log (1 = every request). */
    logSampleRate: z.number().min(0).max(1).default(1),
    /** Reuse predictions for identical inputs to the same model file. */
    cache: z
      .object({
        enabled: z.boolean().default(false),
        ttlMs: z.number().int().min(1).default(60_000),
        maxEntries: z.number().int().min(1).default(10_000),
      })
      .strict()
      .prefault({}),
    /** A stored data contract (name or name@version) every record is checked against. */
    contract: z.string().min(1).nullable().default(null),
    /** Feature service to read online; by default the one the model version was trained with. */
    featureService: z.string().min(1).nullable().default(null),
    /** Values used for features the online store cannot give (down, or missing) — responses say `degraded`. */
    featureDefaults: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).default({}),
    batching: z
      .object({
        maxBatchRows: z.number().int().min(1).max(100_000).default(256),
        maxQueueDelayMs: z.number().min(0).max(1_000).default(2),
        maxQueueRows: z.number().int().min(1).max(1_000_000).default(4_096),
      })
      .strict()
      .prefault({}),
    /** Token bucket per API key; null: unlimited. */
    rateLimit: z
      .object({ perSecond: z.number().positive(), burst: z.number().int().min(1) })
      .strict()
      .nullable()
      .default(null),
  })
  .strict();

export const deploymentSpecSchema = z
  .object({
    model: z.string().min(1).max(128),
    /** An alias follows its moves (blue-green by moving the alias); a version pins. */
    ref: refSchema,
    options: deploymentOptionsSchema.prefault({}),
  })
  .strict();

export type DeploymentSpec = z.output<typeof deploymentSpecSchema>;
export type DeploymentSpecInput = z.input<typeof deploymentSpecSchema>;
export type DeploymentOptions = DeploymentSpec['options'];

export interface Deployment {
  id: string;
  projectId: string;
  name: string;
  revision: number;
  spec: DeploymentSpec;
  createdAt: number;
  updatedAt: number;
  updatedBy: string;
}

export interface DeploymentRevision {
  deploymentId: string;
  revision: number;
  spec: DeploymentSpec;
  /**
   * The model version the target resolved to (and was loaded) when the revision was written:
   * what an alias-following revision served, whatever the alias points at later. Null for
   * revisions stored before Keel recorded it.
   */
  version: number | null;
  reason: string;
  at: number;
  by: string;
}

export const refText = (spec: DeploymentSpec): string =>
  'alias' in spec.ref ? `${spec.model}@${spec.ref.alias}` : `${spec.model}@v${spec.ref.version}`;
