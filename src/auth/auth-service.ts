import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError, type Clock, newId, type Transactor } from '../core/index.ts';
import { recordAudit } from './audit-service.ts';
import type { ApiKeyRecord, ApiKeyStore, AuditStore, Project, ProjectStore } from './auth-stores.ts';
import { authorize, type Principal, type Role, roles, systemPrincipal } from './roles.ts';

export interface AuthStores {
  projects: ProjectStore;
  apiKeys: ApiKeyStore;
  audit: AuditStore;
}

export const defaultProjectName = 'default';
const keyPattern = /^keel_([0-9a-z]{16})_([0-9a-f]{64})$/;
const hashSecret = (secret: string) => hash('sha256', secret, 'hex');

export interface CreateKeyInput {
  name?: string;
  role: Role;
  /** Project names or ids; `*` for every project. */
  projects: string[];
  expiresAt?: number | null;
}

/**
 * Whether `projectIds` (ids, or `*`) lie within the actor's scope. A project-scoped admin manages
 * only keys confined to its own projects, so it can never mint or revoke its way past its scope.
 */
function holdsAll(actor: Principal, projectIds: readonly string[]): boolean {
  if (actor.projects === '*') return true;
  const mine = actor.projects;
  return projectIds.every((p) => p !== '*' && mine.has(p));
}

export type PublicKey = Omit<ApiKeyRecord, 'secretHash'> & { status: 'active' | 'revoked' | 'expired' };

export class AuthService {
  /**
   * Key records as last read, with what checking a request needs decoded once (the stored hash and
   * the principal): saves a query per request; revocation here clears it at once.
   */
  private readonly cache = new Map<string, CachedKey>();
  /** The one read of each key in flight, shared by every request that needs it. */
  private readonly refreshing = new Map<string, Promise<CachedKey | undefined>>();
  private readonly projectCache = new Map<string, Project>();
  /**
   * Tokens already checked against the cache entry they map to: a request with the same token is
   * then authenticated without hashing it again (a SHA-256 per request was the largest single
   * cost of auth on the serving path). Looked up by the whole token, so no partial comparison of
   * a secret happens; an entry is trusted only while it is still the key's current cache entry,
   * so a refresh or a revocation sends the next request through the full check. Only a token
   * that verified is inserted, and it leaves with its key's cache entry (`forget`), so there is
   * at most one per cached key. The tokens are secrets held in memory for as long as their key
   * is cached, as every request's header holds them for its own lifetime.
   */
  private readonly verified = new Map<string, CachedKey>();

  constructor(
    private readonly tx: Transactor<AuthStores>,
    private readonly clock: Clock,
    private readonly cacheMs = 5000,
  ) {}

  /** The audit log, read through `listAudit` which applies the caller's project scope. */
  get auditStore(): AuditStore {
    return this.tx.stores.audit;
  }

  /** Creates the default project; on an empty key table, an admin key (returned once). */
  async bootstrap(createAdmin: boolean): Promise<{ adminKey: string | null }> {
    if (!(await this.tx.stores.projects.getByName(defaultProjectName))) {
      await this.createProject(systemPrincipal, { name: defaultProjectName, description: 'Default project' }).catch((e) => {
        if (!(e instanceof AppError && e.code === 'ALREADY_EXISTS')) throw e;
      });
    }
    if (!createAdmin || (await this.tx.stores.apiKeys.count()) > 0) return { adminKey: null };
    const { key } = await this.createKey(systemPrincipal, { name: 'bootstrap-admin', role: 'admin', projects: ['*'] });
    return { adminKey: key };
  }

  async createProject(actor: Principal, input: { name: string; description?: string }): Promise<Project> {
    authorize(actor, 'project:write');
    const project: Project = {
      id: newId('project'),
      name: input.name,
      description: input.description ?? '',
      createdAt: this.clock.now(),
      createdBy: actor.id,
    };
    await this.tx.transaction(async (s) => {
      await s.projects.create(project);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'project.create',
        resourceType: 'project',
        resourceId: project.id,
        projectId: project.id,
        after: { name: project.name },
      });
    });
    return project;
  }

  async listProjects(actor: Principal): Promise<Project[]> {
    authorize(actor, 'project:read');
    const all = await this.tx.stores.projects.list();
    return actor.projects === '*' ? all : all.filter((p) => (actor.projects as ReadonlySet<string>).has(p.id));
  }

  /** A project already resolved once (projects are never renamed or deleted): the serving hot path's synchronous lookup. */
  cachedProject(nameOrId: string): Project | undefined {
    return this.projectCache.get(nameOrId);
  }

  /** Resolves a project by name or id, checking the caller may use it for `action`. */
  async resolveProject(nameOrId: string): Promise<Project> {
    // Projects are never renamed or deleted, so a found one can be remembered for good.
    const cached = this.projectCache.get(nameOrId);
    if (cached) return cached;
    const s = this.tx.stores.projects;
    const p = nameOrId.startsWith('prj_') ? await s.get(nameOrId) : await s.getByName(nameOrId);
    if (!p) throw new AppError('NOT_FOUND', `project '${nameOrId}' does not exist`);
    if (this.projectCache.size < 10_000) {
      this.projectCache.set(p.id, p);
      this.projectCache.set(p.name, p);
    }
    return p;
  }

  async createKey(actor: Principal, input: CreateKeyInput): Promise<{ id: string; key: string; record: PublicKey }> {
    authorize(actor, 'key:manage');
    if (!roles.includes(input.role)) throw new AppError('VALIDATION_FAILED', `unknown role '${input.role}'`);
    if (input.projects.length === 0) throw new AppError('VALIDATION_FAILED', 'a key needs at least one project or "*"');
    const projectIds = input.projects.includes('*')
      ? ['*']
      : [...new Set(await Promise.all(input.projects.map(async (p) => (await this.resolveProject(p)).id)))];
    if (!holdsAll(actor, projectIds)) {
      throw new AppError('FORBIDDEN', 'a key can only be given projects the creating key is scoped to', {
        projects: input.projects,
      });
    }
    const now = this.clock.now();
    if (input.expiresAt != null && input.expiresAt <= now) {
      throw new AppError('VALIDATION_FAILED', 'expiresAt must be in the future');
    }
    const id = newId('apiKey');
    const secret = randomBytes(32).toString('hex');
    const record: ApiKeyRecord = {
      id,
      name: input.name ?? `${input.role}-key`,
      secretHash: hashSecret(secret),
      role: input.role,
      projects: projectIds,
      createdAt: now,
      createdBy: actor.id,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
    };
    await this.tx.transaction(async (s) => {
      await s.apiKeys.create(record);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'key.create',
        resourceType: 'api_key',
        resourceId: id,
        after: { name: record.name, role: record.role, projects: projectIds, expiresAt: record.expiresAt },
      });
    });
    return { id, key: `keel_${id.slice(4)}_${secret}`, record: this.toPublic(record) };
  }

  async listKeys(actor: Principal): Promise<PublicKey[]> {
    authorize(actor, 'key:manage');
    const keys = await this.tx.stores.apiKeys.list();
    return keys.filter((k) => holdsAll(actor, k.projects)).map((k) => this.toPublic(k));
  }

  async revokeKey(actor: Principal, id: string): Promise<PublicKey> {
    authorize(actor, 'key:manage');
    const record = await this.tx.transaction(async (s) => {
      const existing = await s.apiKeys.get(id);
      if (!existing) throw new AppError('NOT_FOUND', `key '${id}' does not exist`);
      if (!holdsAll(actor, existing.projects)) {
        throw new AppError('FORBIDDEN', 'this key reaches projects the revoking key is not scoped to', { id });
      }
      if (existing.revokedAt !== null) throw new AppError('INVALID_STATE', `key '${id}' is already revoked`);
      const at = this.clock.now();
      await s.apiKeys.revoke(id, at);
      await recordAudit(s.audit, this.clock, actor, {
        action: 'key.revoke',
        resourceType: 'api_key',
        resourceId: id,
        before: { revokedAt: null },
        after: { revokedAt: at },
      });
      return { ...existing, revokedAt: at };
    });
    this.forget(id);
    this.refreshing.delete(id);
    return this.toPublic(record);
  }

  /**
   * Turns a bearer token into a principal, or throws UNAUTHENTICATED. A key seen before answers
   * from memory while its record is re-read in the background (stale-while-revalidate), so the
   * serving gateway never waits on the metadata database for it, and keeps answering, as the key
   * stood then, while that database is unreachable. A key never seen needs the database, and
   * fails as its read does (UNAVAILABLE once the database's query deadline passes).
   */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (!token) throw new AppError('UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <key>');
    const fresh = this.authenticateCached(token);
    if (fresh) return fresh;
    const m = keyPattern.exec(token);
    if (!m) throw new AppError('UNAUTHENTICATED', 'malformed API key');
    const id = `key_${m[1]}`;
    const stale = this.cache.get(id);
    if (stale) {
      this.refresh(id).catch(() => undefined);
      return verify(stale, m[2] ?? '', this.clock.now());
    }
    return verify(await this.refresh(id), m[2] ?? '', this.clock.now());
  }

  /**
   * Re-reads a key, one read per key at a time. A failed read keeps the last record for another
   * cache period, so an outage costs one read per key per period rather than one per request.
   */
  private refresh(id: string): Promise<CachedKey | undefined> {
    const inFlight = this.refreshing.get(id);
    if (inFlight) return inFlight;
    const read = this.tx.stores.apiKeys
      .get(id)
      .then(
        (record) => {
          // A revocation while this read was out made it moot (the read may predate the revoke).
          if (this.refreshing.get(id) !== read) return this.cache.get(id);
          if (!record) {
            this.forget(id);
            return undefined;
          }
          const entry: CachedKey = {
            record,
            until: this.clock.now() + this.cacheMs,
            hash: Buffer.from(record.secretHash, 'hex'),
            principal: toPrincipal(record),
          };
          this.forget(id);
          this.cache.set(id, entry);
          return entry;
        },
        (e: unknown) => {
          const stale = this.cache.get(id);
          if (!stale) throw e;
          stale.until = this.clock.now() + this.cacheMs;
          return stale;
        },
      )
      .finally(() => {
        if (this.refreshing.get(id) === read) this.refreshing.delete(id);
      });
    this.refreshing.set(id, read);
    return read;
  }

  /**
   * The principal of a token whose key is in the cache and fresh, without a promise (the hot
   * path of every authenticated request); undefined when only authenticate() can tell. Throws
   * UNAUTHENTICATED as authenticate() would for a cached key with the wrong secret.
   */
  authenticateCached(token: string): Principal | undefined {
    const now = this.clock.now();
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (known.until > now && this.cache.get(known.record.id) === known) return checkState(known, now);
      this.verified.delete(token);
    }
    const m = keyPattern.exec(token);
    if (!m) return undefined;
    const entry = this.cache.get(`key_${m[1]}`);
    if (!entry || entry.until <= now) return undefined;
    const principal = verify(entry, m[2] ?? '', now);
    this.verified.set(token, entry);
    entry.token = token;
    return principal;
  }

  /** Drops a key's cache entry and the token remembered with it. */
  private forget(id: string): void {
    const token = this.cache.get(id)?.token;
    if (token !== undefined) this.verified.delete(token);
    this.cache.delete(id);
  }

  /**
   * The principal of a key as it stands now, for work the server does on a key's behalf later
   * (scheduled pipeline runs): null once the key is revoked or expired.
   */
  async principalFor(keyId: string): Promise<Principal | null> {
    if (keyId === systemPrincipal.id) return systemPrincipal;
    const record = await this.tx.stores.apiKeys.get(keyId);
    const now = this.clock.now();
    if (!record || record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt <= now)) return null;
    return toPrincipal(record);
  }

  private toPublic(k: ApiKeyRecord): PublicKey {
    const { secretHash: _h, ...rest } = k;
    const status =
      k.revokedAt !== null ? 'revoked' : k.expiresAt !== null && k.expiresAt <= this.clock.now() ? 'expired' : 'active';
    return { ...rest, status };
  }
}

interface CachedKey {
  record: ApiKeyRecord;
  until: number;
  hash: Buffer;
  principal: Principal;
  /** The token last verified against this entry, remembered in `verified`. */
  token?: string;
}

/** Checks a presented secret against a key in constant time, then the key's state. */
function verify(entry: CachedKey | undefined, secret: string, now: number): Principal {
  const presented = hash('sha256', secret, 'buffer');
  const stored = entry ? entry.hash : Buffer.alloc(32);
  const matches = stored.length === presented.length && timingSafeEqual(stored, presented);
  if (!entry || !matches) throw new AppError('UNAUTHENTICATED', 'unknown API key');
  return checkState(entry, now);
}

/** The principal of a key whose secret was checked, if the key is neither revoked nor expired. */
function checkState(entry: CachedKey, now: number): Principal {
  const { record } = entry;
  if (record.revokedAt !== null) throw new AppError('UNAUTHENTICATED', 'this API key was revoked');
  if (record.expiresAt !== null && record.expiresAt <= now) {
    throw new AppError('UNAUTHENTICATED', 'this API key has expired');
  }
  return entry.principal;
}

function toPrincipal(record: ApiKeyRecord): Principal {
  return {
    id: record.id,
    name: record.name,
    role: record.role as Role,
    projects: record.projects.includes('*') ? '*' : new Set(record.projects),
  };
}
