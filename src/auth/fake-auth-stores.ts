import { AppError, decodePageToken, encodePageToken, type Page } from '../core/index.ts';
import type { ApiKeyRecord, ApiKeyStore, AuditEvent, AuditFilter, AuditStore, Project, ProjectStore } from './auth-stores.ts';

/** State of the auth fakes; lives inside a MemoryTransactor's state so it rolls back. */
export interface AuthMemoryState {
  projects: Map<string, Project>;
  keys: Map<string, ApiKeyRecord>;
  audit: AuditEvent[];
}

export const newAuthMemoryState = (): AuthMemoryState => ({ projects: new Map(), keys: new Map(), audit: [] });

type Holder = { auth: AuthMemoryState };

// Code-unit order, as SQLite's BINARY collation sorts, not localeCompare's linguistic order.
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class FakeProjectStore implements ProjectStore {
  constructor(private readonly holder: Holder) {}
  private get s() {
    return this.holder.auth;
  }
  async create(p: Project): Promise<void> {
    if ([...this.s.projects.values()].some((x) => x.name === p.name) || this.s.projects.has(p.id)) {
      throw new AppError('ALREADY_EXISTS', `project '${p.name}' already exists`);
    }
    this.s.projects.set(p.id, { ...p });
  }
  async get(id: string) {
    const p = this.s.projects.get(id);
    return p ? { ...p } : null;
  }
  async getByName(name: string) {
    const p = [...this.s.projects.values()].find((x) => x.name === name);
    return p ? { ...p } : null;
  }
  async list() {
    return [...this.s.projects.values()].sort((a, b) => byCodeUnits(a.name, b.name)).map((p) => ({ ...p }));
  }
}

export class FakeApiKeyStore implements ApiKeyStore {
  constructor(private readonly holder: Holder) {}
  private get s() {
    return this.holder.auth;
  }
  async create(k: ApiKeyRecord) {
    this.s.keys.set(k.id, { ...k, projects: [...k.projects] });
  }
  async get(id: string) {
    const k = this.s.keys.get(id);
    return k ? { ...k, projects: [...k.projects] } : null;
  }
  async list() {
    return [...this.s.keys.values()]
      .sort((a, b) => a.createdAt - b.createdAt || byCodeUnits(a.id, b.id))
      .map((k) => ({ ...k, projects: [...k.projects] }));
  }
  async revoke(id: string, at: number) {
    const k = this.s.keys.get(id);
    if (!k || k.revokedAt !== null) return false;
    k.revokedAt = at;
    return true;
  }
  async count() {
    return this.s.keys.size;
  }
}

// Safe integers only: a larger number overflows Postgres's bigint and fails the query.
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v);

export class FakeAuditStore implements AuditStore {
  constructor(private readonly holder: Holder) {}
  async append(e: AuditEvent) {
    this.holder.auth.audit.push(structuredClone(e));
  }
  async list(f: AuditFilter, limit: number, pageToken?: string): Promise<Page<AuditEvent>> {
    const all = this.holder.auth.audit;
    const before = pageToken ? decodePageToken(pageToken, isSeq) : all.length;
    const items: AuditEvent[] = [];
    let seq = before - 1;
    for (; seq >= 0 && items.length <= limit; seq--) {
      const e = all[seq];
      if (!e) continue;
      if (f.actor && e.actor !== f.actor) continue;
      if (f.resourceId && e.resourceId !== f.resourceId) continue;
      if (f.resourceType && e.resourceType !== f.resourceType) continue;
      if (f.action && e.action !== f.action) continue;
      if (f.projectIds && !f.projectIds.includes(e.projectId ?? '')) continue;
      if (f.since !== undefined && e.at < f.since) continue;
      if (f.until !== undefined && e.at > f.until) continue;
      items.push({ ...structuredClone(e), seqIndex: seq } as AuditEvent & { seqIndex: number });
    }
    const page = items.slice(0, limit) as (AuditEvent & { seqIndex: number })[];
    const last = page[page.length - 1];
    return {
      items: page.map(({ seqIndex: _s, ...e }) => e),
      nextPageToken: items.length > limit && last ? encodePageToken(last.seqIndex) : null,
    };
  }
}
