import type { Page } from '../core/index.ts';

export interface Project {
  id: string;
  name: string;
  description: string;
  createdAt: number;
  createdBy: string;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  secretHash: string;
  role: string;
  /** Project ids, or `['*']` for every project. */
  projects: string[];
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface ProjectStore {
  /** Inserts; ALREADY_EXISTS when the name is taken. */
  create(project: Project): Promise<void>;
  get(id: string): Promise<Project | null>;
  getByName(name: string): Promise<Project | null>;
  list(): Promise<Project[]>;
}

export interface ApiKeyStore {
  create(key: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>;
  /** Sets revokedAt once; returns false when already revoked or missing. */
  revoke(id: string, at: number): Promise<boolean>;
  count(): Promise<number>;
}

export interface AuditEvent {
  id: string;
  at: number;
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string;
  projectId: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditFilter {
  actor?: string;
  resourceId?: string;
  resourceType?: string;
  action?: string;
  projectIds?: string[];
  since?: number;
  until?: number;
}

/** Append-only: there is deliberately no update or delete. Listed newest first. */
export interface AuditStore {
  append(event: AuditEvent): Promise<void>;
  list(filter: AuditFilter, limit: number, pageToken?: string): Promise<Page<AuditEvent>>;
}
