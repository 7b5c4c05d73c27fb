import { AppError } from '../core/index.ts';

export const roles = ['viewer', 'scientist', 'deployer', 'admin', 'predictor'] as const;
export type Role = (typeof roles)[number];

export const actions = [
  'project:read',
  'project:write',
  'key:manage',
  'audit:read',
  'tracking:read',
  'tracking:write',
  'registry:read',
  'registry:write',
  'dataset:read',
  'dataset:write',
  'features:read',
  'features:write',
  'features:materialize',
  'alias:write',
  'model:approve',
  'policy:write',
  'deployment:write',
  'pipeline:run',
  'serving:predict',
] as const;
export type Action = (typeof actions)[number];

const readAll: Action[] = ['project:read', 'audit:read', 'tracking:read', 'registry:read', 'dataset:read', 'features:read'];

/** What each role may do. `predictor` is deliberately disjoint from everything that reads metadata. */
export const rolePermissions: Record<Role, ReadonlySet<Action>> = {
  viewer: new Set(readAll),
  scientist: new Set([
    ...readAll,
    'tracking:write',
    'registry:write',
    'dataset:write',
    'features:write',
    'features:materialize',
    'pipeline:run',
  ]),
  deployer: new Set([...readAll, 'alias:write', 'model:approve', 'deployment:write', 'features:materialize']),
  admin: new Set(actions),
  predictor: new Set(['serving:predict']),
};

/** Who is calling: an API key, or the server itself for bootstrap work. */
export interface Principal {
  /** Key id (`key_…`) or `system`. Recorded as the actor in the audit log. */
  id: string;
  name: string;
  role: Role;
  /** Project ids the key may touch, or `*` for all. */
  projects: '*' | ReadonlySet<string>;
}

export const systemPrincipal: Principal = { id: 'system', name: 'system', role: 'admin', projects: '*' };

export function can(principal: Principal, action: Action, projectId?: string): boolean {
  if (!rolePermissions[principal.role].has(action)) return false;
  if (projectId === undefined || principal.projects === '*') return true;
  return principal.projects.has(projectId);
}

/** Throws FORBIDDEN unless the principal holds `action` in `projectId`. */
export function authorize(principal: Principal, action: Action, projectId?: string): void {
  if (!rolePermissions[principal.role].has(action)) {
    throw new AppError('FORBIDDEN', `role '${principal.role}' may not ${action.replace(':', ' ')}`, {
      role: principal.role,
      action,
    });
  }
  if (projectId !== undefined && principal.projects !== '*' && !principal.projects.has(projectId)) {
    throw new AppError('FORBIDDEN', 'this key is not scoped to the project that owns the resource', {
      action,
    });
  }
}
