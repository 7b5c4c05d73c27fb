import { type Clock, newId } from '../core/index.ts';
import type { AuditFilter, AuditStore } from './auth-stores.ts';
import { authorize, type Principal } from './roles.ts';

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId: string;
  projectId?: string | null;
  before?: unknown;
  after?: unknown;
}

const maxSummaryChars = 4000;

/** Keeps audit rows small: long strings and large objects are cut, never dropped silently. */
export function summarize(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'string' && v.length > 500 ? `${v.slice(0, 500)}…` : v));
  if (text.length <= maxSummaryChars) return JSON.parse(text);
  return { truncated: true, preview: text.slice(0, maxSummaryChars) };
}

/** Records one mutation; call it inside the same transaction as the mutation itself. */
export async function recordAudit(store: AuditStore, clock: Clock, actor: Principal, entry: AuditEntry): Promise<void> {
  await store.append({
    id: newId('audit'),
    at: clock.now(),
    actor: actor.id,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId,
    projectId: entry.projectId ?? null,
    before: summarize(entry.before),
    after: summarize(entry.after),
  });
}

/** Reading the log: keys scoped to some projects see only those projects' events. */
export async function listAudit(store: AuditStore, principal: Principal, filter: AuditFilter, limit: number, pageToken?: string) {
  authorize(principal, 'audit:read');
  const scoped: AuditFilter = principal.projects === '*' ? filter : { ...filter, projectIds: [...principal.projects] };
  return store.list(scoped, limit, pageToken);
}
