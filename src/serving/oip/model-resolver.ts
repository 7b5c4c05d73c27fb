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
 * `ttlMs` so the hot path does not query the metadata store per request. Past the TTL the last
 * answer keeps serving while one refresh runs in the background (stale-while-revalidate): a request
 * waits on the registry only for a name it has never resolved. When a refresh fails for a reason
 * other than the model being gone (the database is down or silent), the last answer stays.
 */
export class ModelResolver {
  private readonly cache = new Map<string, Cached>();
  /** The model names of each project's last successful listing. */
  private readonly listed = new Map<string, string[]>();

  constructor(
    private readonly registry: Pick<RegistryService, 'listModels' | 'listVersions'>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  async model(projectId: string, name: string): Promise<ServedModel> {
    const known = this.cachedModel(projectId, name);
    if (known) return known;
    const key = `${projectId}\u0000${name}`;
    const hit = this.cache.get(key);
    if (hit?.pending) return hit.pending;
    const entry: Cached = { model: null, fetchedAt: 0, pending: null };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, entry);
    return this.refresh(key, entry, projectId, name);
  }

  /** The model as last resolved, without waiting (undefined before its first read); past the TTL, a refresh starts behind it. */
  cachedModel(projectId: string, name: string): ServedModel | undefined {
    const key = `${projectId}\u0000${name}`;
    const hit = this.cache.get(key);
    if (!hit?.model) return undefined;
    if (this.clock.now() - hit.fetchedAt >= this.ttlMs && !hit.pending) {
      // This request is answered from the known model; a refresh that finds it gone drops it
      // from the cache, so the next request hears of it.
      this.refresh(key, hit, projectId, name).catch(() => undefined);
    }
    return hit.model;
  }

  /**
   * Every model of a project, for the repository index: the names read fresh, each model through
   * the cache. While the registry cannot answer (a 5xx or a network error), the names of the last
   * listing that succeeded, each model as last resolved, so the index keeps answering through a
   * metadata-database outage; a model the registry now calls gone (404) leaves that listing, and
   * one that cannot be resolved during the outage is left out rather than failing the index.
   */
  async list(projectId: string): Promise<ServedModel[]> {
    let names: string[];
    let fallback = false;
    try {
      names = (await this.registry.listModels(systemPrincipal, [projectId])).map((m) => m.name);
      this.listed.set(projectId, names);
    } catch (e) {
      const known = this.listed.get(projectId);
      if ((e instanceof AppError && e.status < 500) || !known) throw e;
      names = known;
      fallback = true;
    }
    const models = await Promise.allSettled(names.map((name) => this.model(projectId, name)));
    const served: ServedModel[] = [];
    models.forEach((m, i) => {
      if (m.status === 'fulfilled') {
        served.push(m.value);
        return;
      }
      const gone = m.reason instanceof AppError && m.reason.status === 404;
      if (gone) this.forget(projectId, names[i] as string);
      // A model deleted between the listing and its lookup is simply not there any more.
      else if (!fallback) throw m.reason;
    });
    return served;
  }

  private forget(projectId: string, name: string): void {
    const known = this.listed.get(projectId);
    if (known?.includes(name))
      this.listed.set(
        projectId,
        known.filter((n) => n !== name),
      );
  }

  /**
   * The one registry read in flight for `entry`. A failed read keeps a known answer for another
   * TTL, so an outage costs one read per model per TTL rather than one per request.
   */
  private refresh(key: string, entry: Cached, projectId: string, name: string): Promise<ServedModel> {
    entry.pending = this.fetch(projectId, name)
      .then((model) => {
        entry.model = model;
        entry.fetchedAt = this.clock.now();
        return model;
      })
      .catch((e: unknown) => {
        if ((e instanceof AppError && e.status < 500) || !entry.model) {
          if (this.cache.get(key) === entry) this.cache.delete(key);
          throw e;
        }
        entry.fetchedAt = this.clock.now();
        return entry.model;
      })
      .finally(() => {
        entry.pending = null;
      });
    return entry.pending;
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
