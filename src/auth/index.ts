export { type AuditEntry, listAudit, recordAudit, summarize } from './audit-service.ts';
export { AuthService, type AuthStores, type CreateKeyInput, defaultProjectName, type PublicKey } from './auth-service.ts';
export type * from './auth-stores.ts';
export {
  type AuthMemoryState,
  FakeApiKeyStore,
  FakeAuditStore,
  FakeProjectStore,
  newAuthMemoryState,
} from './fake-auth-stores.ts';
export {
  type Action,
  actions,
  authorize,
  can,
  type Principal,
  type Role,
  rolePermissions,
  roles,
  systemPrincipal,
} from './roles.ts';
export { SqlApiKeyStore, SqlAuditStore, SqlProjectStore } from './sql-auth-stores.ts';
