import { systemPrincipal } from '../../auth/index.ts';
import { AppError, type Clock } from '../../core/index.ts';
import type { ModelSignature, RegistryService } from '../../registry/index.ts';

export interface ServedVersion {
  version: number;
  digest: string;
  size: number;
  signature: ModelSignature;
  aliases: string[];
}

/** A registered model as the data plane sees it: its versions' artifacts and signatures. */
export interface ServedModel {
  projectId: string;
  name: string;
  versions: ServedVersion[];
  /** The version served when a request names none: the `champion` alias when set, else the latest version. */
  defaultVersion: number | null;
}

interface Cached {
  model: ServedModel | null;
  fetchedAt: number;
  pending: Promise<ServedModel> | null;
}

export const defaultAlias = 'champion';

/**
 * Resolves model names to versions and artifacts through the registry, remembering each answer for
 * `ttlMs` so the hot path does not query the metadata store per request. When a refresh fails for
 * a reason other than the model being gone (the database is down), the last answer keeps serving.
 */
export class ModelResolver {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly registry: Pick<RegistryService, 'listModels' | 'listVersions'>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  async model(projectId: string, name: string): Promise<ServedModel> {
    const key = `${projectId}\u0000${name}`;
    const hit = this.cache.get(key);
    if (hit?.model && this.clock.now() - hit.fetchedAt < this.ttlMs) return hit.model;
    if (hit?.pending) return hit.pending;
    const entry: Cached = hit ?? { model: null, fetchedAt: 0, pending: null };
    entry.pending = this.fetch(projectId, name)
      .then((model) => {
        entry.model = model;
        entry.fetchedAt = this.clock.now();
        return model;
      })
      .catch((e: unknown) => {
        if (e instanceof AppError && e.status < 500) {
          this.cache.delete(key);
          throw e;
        }
        if (entry.model) return entry.model;
        throw e;
      })
      .finally(() => {
        entry.pending = null;
      });
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, entry);
    return entry.pending;
  }

  /** Every model of a project, for the repository index (always read fresh). */
  async list(projectId: string): Promise<ServedModel[]> {
    const models = await this.registry.listModels(systemPrincipal, [projectId]);
    return Promise.all(models.map((m) => this.model(projectId, m.name)));
  }

  private async fetch(projectId: string, name: string): Promise<ServedModel> {
    const versions = await this.registry.listVersions(systemPrincipal, projectId, name);
    const served = versions.map((v) => ({
      version: v.version,
      digest: v.artifactDigest,
      size: v.artifactSize,
      signature: v.manifest.signature,
      aliases: v.aliases,
    }));
    const champion = served.find((v) => v.aliases.includes(defaultAlias));
    const latest = served.reduce<number | null>((max, v) => (max === null || v.version > max ? v.version : max), null);
    return { projectId, name, versions: served, defaultVersion: champion?.version ?? latest };
  }
}
