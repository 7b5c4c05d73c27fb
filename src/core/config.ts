import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppError } from './errors.ts';

/** The metadata database's query deadline unless configured (storage.queryTimeoutMs). */
export const defaultQueryTimeoutMs = 5000;

const sqliteStorage = z.object({
  driver: z.literal('sqlite'),
  /** Defaults to `<dataDir>/keel.db`. `:memory:` keeps everything in RAM (tests). */
  path: z.string().optional(),
});
const postgresStorage = z.object({
  driver: z.literal('postgres'),
  url: z.string().min(1),
  poolSize: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * A query not answered within this fails as UNAVAILABLE (503) and its connection is dropped: a
   * network split that drops packets without resetting connections must not hang a request. The
   * server is told the same deadline (statement_timeout). 0 waits forever. Migrations are exempt.
   */
  queryTimeoutMs: z.coerce.number().int().min(0).default(defaultQueryTimeoutMs),
});

/** The online feature store (DESIGN §2): embedded SQLite by default, Redis to scale out, memory for tests. */
const onlineStore = z.discriminatedUnion('driver', [
  z.object({
    driver: z.literal('sqlite'),
    /** Defaults to `<dataDir>/online.db`. `:memory:` keeps it in RAM. */
    path: z.string().optional(),
  }),
  z.object({
    driver: z.literal('redis'),
    url: z.string().min(1),
    keyPrefix: z.string().default('keel:'),
    /** A Redis command not answered within this fails as UNAVAILABLE (serving degrades, never hangs). */
    commandTimeoutMs: z.coerce.number().int().positive().default(1000),
  }),
  z.object({ driver: z.literal('memory') }),
]);

/** The one config schema. Parsed once, frozen, passed to every `create*` function. */
export const configSchema = z.object({
  dataDir: z.string().default('./.keel'),
  server: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65535).default(7878),
      /** Largest JSON body accepted; artifact uploads stream and have their own limit. */
      bodyLimitBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(4 * 1024 * 1024),
      artifactLimitBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(5 * 1024 * 1024 * 1024),
      modelUploadLimitBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(1024 * 1024 * 1024),
    })
    .default({
      host: '127.0.0.1',
      port: 7878,
      bodyLimitBytes: 4 * 1024 * 1024,
      artifactLimitBytes: 5 * 1024 * 1024 * 1024,
      modelUploadLimitBytes: 1024 * 1024 * 1024,
    }),
  storage: z.discriminatedUnion('driver', [sqliteStorage, postgresStorage]).default({ driver: 'sqlite' }),
  onlineStore: onlineStore.default({ driver: 'sqlite' }),
  blobs: z.object({ dir: z.string().optional() }).default({}),
  log: z
    .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .default({ level: 'info' }),
  datasets: z
    .object({
      /**
       * Folders whose Parquet/CSV files `files` and `query` dataset sources may read (a list, or a
       * comma-separated string from the env). Default: `<dataDir>/imports` and the working directory;
       * the rest of the data dir is never readable.
       */
      allowedRoots: z
        .preprocess(
          (v) =>
            typeof v === 'string'
              ? v
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean)
              : v,
          z.array(z.string().min(1)).max(100),
        )
        .optional(),
    })
    .default({}),
  pipelines: z
    .object({
      /** Steps executing at once across all pipeline runs of this server (cache hits do not count). */
      maxConcurrentSteps: z.coerce.number().int().min(1).max(256).default(2),
    })
    .default({ maxConcurrentSteps: 2 }),
  serving: z
    .object({
      /** The project whose registered models /v2 serves when a request names none (`?project=`). */
      defaultProject: z.string().min(1).default('default'),
      /** Estimated memory the loaded models may take together; idle ones are unloaded least recently used first. */
      modelMemoryBudgetBytes: z.coerce
        .number()
        .int()
        .positive()
        .default(2 * 1024 * 1024 * 1024),
      /** A model's estimated memory is its ONNX file size times this (weights copied into the runtime, plus working memory). */
      modelMemoryFactor: z.coerce.number().min(1).max(100).default(2),
      /** Run one synthetic batch through each model before it reports READY. */
      warmup: z
        .preprocess((v) => (typeof v === 'string' ? !['false', '0', 'no', 'off'].includes(v.toLowerCase()) : v), z.boolean())
        .default(true),
      /** ONNX Runtime intra-op threads per session. */
      intraOpThreads: z.coerce.number().int().min(1).max(64).default(1),
      /** How long a model that failed to load answers 503 before a request may retry the load (explicit loads retry at once). */
      failedRetryMs: z.coerce.number().int().min(0).default(30_000),
      /** How long a resolved model name (versions, aliases, artifacts) is reused before asking the registry again. */
      resolveCacheMs: z.coerce.number().int().min(0).default(2_000),
      /** How often the predict path re-resolves its deployments (alias moves, new feature versions). */
      routeRefreshMs: z.coerce.number().int().min(100).default(2_000),
      /** Deadline of one online feature read; past it the read counts as a failure of the store. */
      featureTimeoutMs: z.coerce.number().int().min(1).default(250),
      /** Consecutive online-store failures that open the circuit breaker, and how long it stays open. */
      breakerThreshold: z.coerce.number().int().min(1).default(5),
      breakerHalfOpenMs: z.coerce.number().int().min(1).default(2_000),
      inferenceLog: z
        .object({
          enabled: z
            .preprocess((v) => (typeof v === 'string' ? !['false', '0', 'no', 'off'].includes(v.toLowerCase()) : v), z.boolean())
            .default(true),
          /** Default `<dataDir>/inference-log`. */
          dir: z.string().optional(),
          segmentMaxBytes: z.coerce
            .number()
            .int()
            .min(1024)
            .default(64 * 1024 * 1024),
          segmentMaxAgeMs: z.coerce.number().int().min(100).default(60_000),
        })
        .prefault({}),
    })
    .prefault({}),
  auth: z
    .object({
      /** On first start with no keys, create an admin key and write it to `<dataDir>/admin.key`. */
      bootstrapAdmin: z.boolean().default(true),
    })
    .default({ bootstrapAdmin: true }),
});

export type KeelConfig = Readonly<z.infer<typeof configSchema>>;
export type StorageConfig = KeelConfig['storage'];
export type OnlineStoreConfig = KeelConfig['onlineStore'];
export type ServingConfig = KeelConfig['serving'];

type Plain = Record<string, unknown>;

/** Env vars that map onto config paths. Only this module reads `process.env`. */
const envPaths: Record<string, string[]> = {
  KEEL_DATA_DIR: ['dataDir'],
  KEEL_PIPELINE_STEPS: ['pipelines', 'maxConcurrentSteps'],
  KEEL_HOST: ['server', 'host'],
  KEEL_PORT: ['server', 'port'],
  KEEL_BODY_LIMIT_BYTES: ['server', 'bodyLimitBytes'],
  KEEL_STORAGE_DRIVER: ['storage', 'driver'],
  KEEL_STORAGE_URL: ['storage', 'url'],
  KEEL_STORAGE_PATH: ['storage', 'path'],
  KEEL_STORAGE_QUERY_TIMEOUT_MS: ['storage', 'queryTimeoutMs'],
  KEEL_ONLINE_STORE_DRIVER: ['onlineStore', 'driver'],
  KEEL_ONLINE_STORE_URL: ['onlineStore', 'url'],
  KEEL_BLOB_DIR: ['blobs', 'dir'],
  KEEL_LOG_LEVEL: ['log', 'level'],
  KEEL_DATASET_ROOTS: ['datasets', 'allowedRoots'],
  KEEL_SERVING_PROJECT: ['serving', 'defaultProject'],
  KEEL_SERVING_MEMORY_BUDGET_BYTES: ['serving', 'modelMemoryBudgetBytes'],
  KEEL_SERVING_WARMUP: ['serving', 'warmup'],
  KEEL_SERVING_THREADS: ['serving', 'intraOpThreads'],
  KEEL_INFERENCE_LOG: ['serving', 'inferenceLog', 'enabled'],
  KEEL_INFERENCE_LOG_DIR: ['serving', 'inferenceLog', 'dir'],
};

function setPath(target: Plain, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Plain;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof prev === 'object' && prev !== null
        ? deepMerge(prev as Plain, v as Plain)
        : v;
  }
  return out;
}

export interface LoadConfigOptions {
  /** Path to a YAML file; by default `./keel.yaml` when it exists. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Values from command-line flags, already shaped like the config. */
  overrides?: Plain;
}

/** defaults ← keel.yaml ← KEEL_* env ← flags, validated once. */
export function loadConfig(opts: LoadConfigOptions = {}): KeelConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.KEEL_CONFIG ?? (existsSync('keel.yaml') ? 'keel.yaml' : undefined);
  let fromFile: Plain = {};
  if (file) {
    try {
      fromFile = (parseYaml(readFileSync(resolve(file), 'utf8')) as Plain | null) ?? {};
    } catch (e) {
      throw new AppError('CONFIG_INVALID', `cannot read config file ${file}: ${(e as Error).message}`);
    }
  }
  const fromEnv: Plain = {};
  for (const [name, path] of Object.entries(envPaths)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(fromEnv, path, value);
  }
  const merged = deepMerge(deepMerge(fromFile, fromEnv), opts.overrides ?? {});
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new AppError('CONFIG_INVALID', `invalid configuration: ${z.prettifyError(parsed.error)}`, parsed.error.issues);
  }
  return deepFreeze(parsed.data);
}

function deepFreeze<T>(obj: T): T {
  if (typeof obj === 'object' && obj !== null) {
    for (const v of Object.values(obj)) deepFreeze(v);
    Object.freeze(obj);
  }
  return obj;
}

/** What the CLI and SDK need to reach a server. */
export const clientConfigSchema = z.object({
  url: z.string().url().default('http://127.0.0.1:7878'),
  apiKey: z.string().optional(),
});
export type ClientConfig = z.infer<typeof clientConfigSchema>;

export function loadClientConfig(
  flags: { url?: string | undefined; apiKey?: string | undefined } = {},
  env: Record<string, string | undefined> = process.env,
): ClientConfig {
  return clientConfigSchema.parse({
    url: flags.url ?? env.KEEL_URL ?? undefined,
    apiKey: flags.apiKey ?? env.KEEL_API_KEY ?? undefined,
  });
}

/** Test-only service addresses; CI exports them, and tests read them through here. */
export function testServiceEnv(env: Record<string, string | undefined> = process.env) {
  return {
    ci: env.CI === 'true',
    postgresUrl: env.KEEL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.KEEL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    natsUrl: env.KEEL_TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  };
}
