import { describe, expect, it } from 'vitest';
import { AppError, ManualClock } from '../core/index.ts';
import { memoryTransactor } from '../stores.ts';
import { AuthService } from './auth-service.ts';
import { can, systemPrincipal } from './roles.ts';

function setup() {
  const clock = new ManualClock(1_700_000_000_000);
  const tx = memoryTransactor();
  return { clock, tx, auth: new AuthService(tx, clock, 0) };
}

/** Lets background reads that are already answered finish. */
const settle = () => new Promise((r) => setImmediate(r));

const codeOf = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as AppError).code;

describe('AuthService', () => {
  it('bootstraps one admin key once, and the default project', async () => {
    const { auth } = setup();
    const first = await auth.bootstrap(true);
    expect(first.adminKey).toMatch(/^keel_[0-9a-z]{16}_[0-9a-f]{64}$/);
    expect((await auth.bootstrap(true)).adminKey).toBeNull();
    const admin = await auth.authenticate(first.adminKey ?? '');
    expect(admin.role).toBe('admin');
    expect(admin.projects).toBe('*');
    expect((await auth.listProjects(admin)).map((p) => p.name)).toEqual(['default']);
  });

  it('stores only a hash, and rejects wrong, revoked and expired keys', async () => {
    const { auth, tx, clock } = setup();
    await auth.bootstrap(false);
    const { id, key } = await auth.createKey(systemPrincipal, {
      role: 'viewer',
      projects: ['default'],
      expiresAt: clock.now() + 60_000,
    });
    const stored = await tx.stores.apiKeys.get(id);
    expect(stored?.secretHash).not.toContain(key.split('_')[2] ?? 'x');
    expect((await auth.authenticate(key)).role).toBe('viewer');
    const tampered = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
    expect(await codeOf(auth.authenticate(tampered))).toBe('UNAUTHENTICATED');
    expect(await codeOf(auth.authenticate(undefined))).toBe('UNAUTHENTICATED');
    expect(await codeOf(auth.authenticate('Basic abc'))).toBe('UNAUTHENTICATED');
    clock.advance(60_000);
    expect(await codeOf(auth.authenticate(key))).toBe('UNAUTHENTICATED');
    const other = await auth.createKey(systemPrincipal, { role: 'scientist', projects: ['*'] });
    await auth.revokeKey(systemPrincipal, other.id);
    expect(await codeOf(auth.authenticate(other.key))).toBe('UNAUTHENTICATED');
    expect(await codeOf(auth.revokeKey(systemPrincipal, other.id))).toBe('INVALID_STATE');
    const listed = await auth.listKeys(systemPrincipal);
    expect(listed.map((k) => k.status)).toEqual(['expired', 'revoked']);
    expect(JSON.stringify(listed)).not.toContain('secretHash');
  });

  it('a revocation takes effect at once even with the key cache on', async () => {
    const clock = new ManualClock(1);
    const auth = new AuthService(memoryTransactor(), clock, 60_000);
    const { id, key } = await auth.createKey(systemPrincipal, { role: 'viewer', projects: ['*'] });
    await auth.authenticate(key);
    await auth.revokeKey(systemPrincipal, id);
    expect(await codeOf(auth.authenticate(key))).toBe('UNAUTHENTICATED');
  });

  it('answers cached keys synchronously, with the same checks, and defers the rest to authenticate()', async () => {
    const clock = new ManualClock(1);
    const auth = new AuthService(memoryTransactor(), clock, 60_000);
    const { id, key } = await auth.createKey(systemPrincipal, { role: 'viewer', projects: ['*'], expiresAt: 30_000 });
    // Not yet read: only authenticate() can tell.
    expect(auth.authenticateCached(key)).toBeUndefined();
    const principal = await auth.authenticate(key);
    expect(auth.authenticateCached(key)).toBe(principal);
    const tampered = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
    expect(() => auth.authenticateCached(tampered)).toThrow('unknown API key');
    expect(auth.authenticateCached('not a key')).toBeUndefined();
    clock.advance(30_000);
    expect(() => auth.authenticateCached(key)).toThrow('expired');
    // A revocation drops the key from the cache: the next request goes to the store.
    clock.set(2);
    await auth.revokeKey(systemPrincipal, id);
    expect(auth.authenticateCached(key)).toBeUndefined();
    expect(await codeOf(auth.authenticate(key))).toBe('UNAUTHENTICATED');
  });

  it('answers a key seen before from memory while the database is silent or down, reading it once at a time', async () => {
    const clock = new ManualClock(1);
    const tx = memoryTransactor();
    const auth = new AuthService(tx, clock, 5000);
    const { id, key } = await auth.createKey(systemPrincipal, { role: 'viewer', projects: ['*'] });
    const unseen = await auth.createKey(systemPrincipal, { role: 'viewer', projects: ['*'] });
    const store = tx.stores.apiKeys;
    const read = store.get.bind(store);
    let mode: 'up' | 'silent' | 'down' = 'up';
    let reads = 0;
    store.get = (keyId) => {
      reads++;
      if (mode === 'silent') return new Promise<never>(() => undefined);
      if (mode === 'down') return Promise.reject(new AppError('UNAVAILABLE', 'the metadata database is unreachable'));
      return read(keyId);
    };
    await auth.authenticate(key);

    mode = 'down';
    clock.advance(5000);
    expect((await auth.authenticate(key)).id).toBe(id);
    await settle();
    // The failed re-read kept the key for another period: no read per request during an outage.
    expect(auth.authenticateCached(key)?.id).toBe(id);
    expect(await codeOf(auth.authenticate(unseen.key))).toBe('UNAVAILABLE');

    // Another server revokes the key; once the database answers, the background re-read sees it.
    await read(id).then((r) => r && store.revoke(id, clock.now()));
    mode = 'up';
    clock.advance(5000);
    expect((await auth.authenticate(key)).id).toBe(id);
    await settle();
    expect(await codeOf(auth.authenticate(key))).toBe('UNAUTHENTICATED');

    const other = await auth.createKey(systemPrincipal, { role: 'viewer', projects: ['*'] });
    await auth.authenticate(other.key);
    mode = 'silent';
    clock.advance(5000);
    reads = 0;
    for (let i = 0; i < 3; i++) expect((await auth.authenticate(other.key)).id).toBe(other.id);
    expect(reads).toBe(1);
  });

  it('scopes keys to projects and refuses key management to non-admins', async () => {
    const { auth } = setup();
    await auth.bootstrap(false);
    const other = await auth.createProject(systemPrincipal, { name: 'other' });
    const { key } = await auth.createKey(systemPrincipal, { role: 'scientist', projects: ['other'] });
    const p = await auth.authenticate(key);
    expect(can(p, 'tracking:write', other.id)).toBe(true);
    expect(can(p, 'tracking:write', (await auth.resolveProject('default')).id)).toBe(false);
    expect(await codeOf(auth.createKey(p, { role: 'admin', projects: ['*'] }))).toBe('FORBIDDEN');
    expect(await codeOf(auth.createKey(systemPrincipal, { role: 'viewer', projects: ['nope'] }))).toBe('NOT_FOUND');
    expect(await codeOf(auth.createProject(systemPrincipal, { name: 'other' }))).toBe('ALREADY_EXISTS');
  });

  it('audits key creation and revocation in the same transaction', async () => {
    const { auth, tx } = setup();
    const { id } = await auth.createKey(systemPrincipal, { role: 'viewer', projects: ['*'] });
    await auth.revokeKey(systemPrincipal, id);
    const page = await tx.stores.audit.list({ resourceId: id }, 10);
    expect(page.items.map((e) => e.action)).toEqual(['key.revoke', 'key.create']);
    expect(page.items[1]?.after).toMatchObject({ role: 'viewer' });
  });
});
