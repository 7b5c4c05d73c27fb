import type { Kysely } from 'kysely';
import { decodePageToken, encodePageToken, type Page } from '../core/index.ts';
import { type ApiKeyRow, type Database, parseJsonColumn, uniqueInsert } from '../storage/index.ts';
import type { ApiKeyRecord, ApiKeyStore, AuditEvent, AuditFilter, AuditStore, Project, ProjectStore } from './auth-stores.ts';

export class SqlProjectStore implements ProjectStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(p: Project): Promise<void> {
    await uniqueInsert(
      this.db
        .insertInto('projects')
        .values({ id: p.id, name: p.name, description: p.description, created_at: p.createdAt, created_by: p.createdBy })
        .execute(),
      `project '${p.name}' already exists`,
    );
  }

  async get(id: string): Promise<Project | null> {
    const row = await this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async getByName(name: string): Promise<Project | null> {
    const row = await this.db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toProject(row) : null;
  }

  async list(): Promise<Project[]> {
    return (await this.db.selectFrom('projects').selectAll().orderBy('name').execute()).map(toProject);
  }
}

const toProject = (r: Database['projects']): Project => ({
  id: r.id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

const toKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  secretHash: r.secret_hash,
  role: r.role,
  projects: parseJsonColumn<string[]>(r.projects) ?? [],
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

export class SqlApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(k: ApiKeyRecord): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({
        id: k.id,
        name: k.name,
        secret_hash: k.secretHash,
        role: k.role,
        projects: JSON.stringify(k.projects),
        created_at: k.createdAt,
        created_by: k.createdBy,
        expires_at: k.expiresAt,
        revoked_at: k.revokedAt,
      })
      .execute();
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toKey(row) : null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute()).map(toKey);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const res = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

// Safe integers only: a larger number overflows Postgres's bigint and fails the query.
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v);

export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Kysely<Database>) {}

  async append(e: AuditEvent): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        id: e.id,
        at: e.at,
        actor: e.actor,
        action: e.action,
        resource_type: e.resourceType,
        resource_id: e.resourceId,
        project_id: e.projectId,
        before: e.before === undefined || e.before === null ? null : JSON.stringify(e.before),
        after: e.after === undefined || e.after === null ? null : JSON.stringify(e.after),
      })
      .execute();
  }

  async list(f: AuditFilter, limit: number, pageToken?: string): Promise<Page<AuditEvent>> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (f.actor) q = q.where('actor', '=', f.actor);
    if (f.resourceId) q = q.where('resource_id', '=', f.resourceId);
    if (f.resourceType) q = q.where('resource_type', '=', f.resourceType);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.projectIds) q = q.where('project_id', 'in', f.projectIds.length ? f.projectIds : ['']);
    if (f.since !== undefined) q = q.where('at', '>=', f.since);
    if (f.until !== undefined) q = q.where('at', '<=', f.until);
    if (pageToken) q = q.where('seq', '<', decodePageToken(pageToken, isSeq));
    const rows = await q
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        at: r.at,
        actor: r.actor,
        action: r.action,
        resourceType: r.resource_type,
        resourceId: r.resource_id,
        projectId: r.project_id,
        before: parseJsonColumn(r.before),
        after: parseJsonColumn(r.after),
      })),
      nextPageToken: rows.length > limit && last ? encodePageToken(Number(last.seq)) : null,
    };
  }
}
