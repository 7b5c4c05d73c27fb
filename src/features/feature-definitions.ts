import { z } from 'zod';

/** Value types a feature or join key may have; they map onto DuckDB and JSON types. */
export const valueTypes = ['int64', 'float64', 'string', 'bool', 'timestamp'] as const;
export type ValueType = (typeof valueTypes)[number];

const name = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'names are lowercase letters, digits and _, starting with a letter');
const duration = z.union([
  z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d|w)$/, 'a duration like 30s, 15m, 1h, 7d'),
  z.number().nonnegative(),
]);

export const entitySchema = z
  .object({
    name,
    join_keys: z
      .array(z.object({ name, type: z.enum(valueTypes).default('string') }).strict())
      .min(1)
      .max(8),
    description: z.string().max(2000).default(''),
  })
  .strict();

export const sourceSchema = z
  .object({
    name,
    /** Parquet or CSV file (or glob) DuckDB reads; relative paths resolve against the server's working dir. */
    path: z.string().min(1).max(1000).optional(),
    /** A registered dataset version (`dsv_…`), read through the datasets module. */
    dataset: z.string().min(1).max(200).optional(),
    timestamp_field: z.string().min(1).max(128),
    created_timestamp_field: z.string().min(1).max(128).optional(),
    description: z.string().max(2000).default(''),
  })
  .strict()
  .refine((s) => (s.path ? 1 : 0) + (s.dataset ? 1 : 0) === 1, 'a source needs exactly one of path or dataset');

export const aggregationFunctions = ['mean', 'sum', 'count', 'min', 'max', 'std'] as const;

const featureSchema = z
  .object({
    name,
    type: z.enum(valueTypes),
    /** Source column or DuckDB expression over the source row; default: the column of the same name. */
    expr: z.string().min(1).max(1000).optional(),
  })
  .strict();

const aggregationSchema = z
  .object({
    column: z.string().min(1).max(128),
    function: z.enum(aggregationFunctions),
    windows: z.array(duration).min(1).max(10),
    /** Output name per window: `{column}_{function}_{window}` unless given as a template with {window}. */
    name: z.string().max(128).optional(),
  })
  .strict();

export const featureViewSchema = z
  .object({
    name,
    entities: z.array(name).min(1).max(4),
    source: name,
    /** Plain features: the latest source row at or before the entity timestamp. */
    features: z.array(featureSchema).max(1000).default([]),
    /** Windowed aggregates over source rows known in (T - window, T]. */
    aggregations: z.array(aggregationSchema).max(100).default([]),
    /** How old a value may be and still be served (plain features). */
    ttl: duration.optional(),
    /** A source row is usable only this long after its event time (e.g. a delay known after departure). */
    availability_lag: duration.default(0),
    /** DuckDB expression for when a row becomes known (overrides availability_lag), e.g. departure + delay. */
    available_at: z.string().min(1).max(1000).optional(),
    /** Freshness objective: materialized data older than this is reported stale. */
    max_staleness: duration.optional(),
    description: z.string().max(2000).default(''),
  })
  .strict()
  .refine((v) => v.features.length + v.aggregations.length > 0, 'a feature view needs features or aggregations')
  .refine((v) => v.features.length === 0 || v.aggregations.length === 0, 'a view has either features or aggregations, not both');

export const transformSchema = z
  .object({
    name,
    /** TypeScript or JavaScript module exporting the function; resolved against the definition file. */
    module: z.string().min(1).max(1000),
    function: z.string().regex(/^[A-Za-z_$][\w$]*$/),
    /** `request.<field>` or `<view>:<feature>` values the function receives, by name. */
    inputs: z.array(z.string().min(1).max(200)).min(1).max(100),
    outputs: z
      .array(z.object({ name, type: z.enum(valueTypes) }).strict())
      .min(1)
      .max(100),
  })
  .strict();

export const featureServiceSchema = z
  .object({
    name,
    /** `view:feature` or `view:*`. */
    features: z
      .array(z.string().regex(/^[a-z][a-z0-9_]*:([a-z][a-z0-9_]*|\*)$/, 'feature refs look like view:feature or view:*'))
      .min(1)
      .max(2000),
    transforms: z.array(name).max(50).default([]),
    description: z.string().max(2000).default(''),
  })
  .strict();

/** One definition file (YAML or TS object); a directory merges its files. */
export const definitionsSchema = z
  .object({
    entities: z.array(entitySchema).default([]),
    sources: z.array(sourceSchema).default([]),
    feature_views: z.array(featureViewSchema).default([]),
    transforms: z.array(transformSchema).default([]),
    feature_services: z.array(featureServiceSchema).default([]),
  })
  .strict();

export type EntityDef = z.infer<typeof entitySchema>;
export type SourceDef = z.infer<typeof sourceSchema>;
export type FeatureViewDef = z.infer<typeof featureViewSchema>;
export type TransformDef = z.infer<typeof transformSchema>;
export type FeatureServiceDef = z.infer<typeof featureServiceSchema>;
export type Definitions = z.infer<typeof definitionsSchema>;
export type DefinitionsInput = z.input<typeof definitionsSchema>;

export const objectKinds = ['entity', 'source', 'feature_view', 'transform', 'feature_service'] as const;
export type ObjectKind = (typeof objectKinds)[number];

/** Helpers so TypeScript definitions read like the YAML ones and are checked the same way. */
export const defineFeatures = (d: DefinitionsInput): DefinitionsInput => d;
