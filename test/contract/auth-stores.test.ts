import { expect, it } from 'vitest';
import type { ApiKeyRecord, AuditEvent, AuditFilter, AuditStore } from '../../src/auth/index.ts';
import { AppError, newId } from '../../src/core/index.ts';
import { describeEachBackend } from '../helpers/sql-backends.ts';

const key = (over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: newId('apiKey'),
  name: 'ci',
  secretHash: 'hash',
  role: 'scientist',
  projects: ['prj_a', 'prj_b'],
  createdAt: 1000,
  createdBy: 'system',
  expiresAt: null,
  revokedAt: null,
  ...over,
});

/** Every event of the filter, fetched `limit` at a time through the page tokens. */
async function allPages(store: AuditStore, filter: AuditFilter, limit: number): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store.list(filter, limit, token);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    if (!page.nextPageToken) return out;
    token = page.nextPageToken;
  }
  throw new Error('paging did not end');
}

describeEachBackend('auth stores', (backend) => {
  it('creates projects with unique names and lists them by name', async () => {
    const { projects } = backend().stores;
    const names = ['zeta', 'alpha', 'Beta', 'mid_1', 'mid-2'];
    for (const [i, name] of names.entries()) {
      await projects.create({ id: `prj_p${i}`, name, description: `d${i}`, createdAt: i, createdBy: 'system' });
    }
    await expect(
      projects.create({ id: 'prj_other', name: 'alpha', description: '', createdAt: 9, createdBy: 'system' }),
    ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await projects.getByName('alpha')).toEqual({
      id: 'prj_p1',
      name: 'alpha',
      description: 'd1',
      createdAt: 1,
      createdBy: 'system',
    });
    expect(await projects.get('prj_other')).toBeNull();
    expect(await projects.getByName('ALPHA')).toBeNull();
    // Names sort bytewise on every backend (uppercase before lowercase, '-' before '_').
    expect((await projects.list()).map((p) => p.name)).toEqual(['Beta', 'alpha', 'mid-2', 'mid_1', 'zeta']);
  });

  it('creates, reads, lists, counts and revokes API keys once', async () => {
    const { apiKeys } = backend().stores;
    const before = await apiKeys.count();
    const a = key({ createdAt: 2000, expiresAt: 9000 });
    const b = key({ createdAt: 1500, projects: ['*'], role: 'admin' });
    await apiKeys.create(a);
    await apiKeys.create(b);
    expect(await apiKeys.count()).toBe(before + 2);
    expect(await apiKeys.get(a.id)).toEqual(a);
    expect(await apiKeys.get('key_missing')).toBeNull();
    const listed = (await apiKeys.list()).filter((k) => k.id === a.id || k.id === b.id);
    expect(listed).toEqual([b, a]);

    expect(await apiKeys.revoke(a.id, 5000)).toBe(true);
    expect(await apiKeys.revoke(a.id, 6000)).toBe(false);
    expect(await apiKeys.revoke('key_missing', 6000)).toBe(false);
    expect((await apiKeys.get(a.id))?.revokedAt).toBe(5000);
    expect(await apiKeys.count()).toBe(before + 2);
  });

  it('lists audit events newest first, with every filter', async () => {
    const { audit } = backend().stores;
    const events: AuditEvent[] = [];
    for (let i = 0; i < 12; i++) {
      const e: AuditEvent = {
        id: newId('audit'),
        // Times repeat and are not in insertion order: newest means last appended.
        at: 10_000 + (i % 4) * 100,
        actor: i % 3 === 0 ? 'key_alice' : 'key_bob',
        action: i % 2 === 0 ? 'run.create' : 'run.log',
        resourceType: i < 8 ? 'run' : 'model',
        resourceId: `res_${i % 5}`,
        projectId: i % 4 === 3 ? null : `prj_${i % 2}`,
        before: i === 1 ? { status: 'RUNNING' } : null,
        after: { n: i, nested: { list: [i, 'x'] } },
      };
      events.push(e);
      await audit.append(e);
    }
    const newest = [...events].reverse();
    const expectFiltered = async (filter: AuditFilter, keep: (e: AuditEvent) => boolean) => {
      const got = (await audit.list(filter, 100)).items.filter((e) => events.some((x) => x.id === e.id));
      expect(got.map((e) => e.id)).toEqual(newest.filter(keep).map((e) => e.id));
    };
    const ours = (await audit.list({}, 100)).items.filter((e) => events.some((x) => x.id === e.id));
    expect(ours).toEqual(newest);
    await expectFiltered({ actor: 'key_alice' }, (e) => e.actor === 'key_alice');
    await expectFiltered({ resourceId: 'res_2' }, (e) => e.resourceId === 'res_2');
    await expectFiltered({ resourceType: 'model' }, (e) => e.resourceType === 'model');
    await expectFiltered({ action: 'run.log' }, (e) => e.action === 'run.log');
    await expectFiltered({ projectIds: ['prj_1'] }, (e) => e.projectId === 'prj_1');
    await expectFiltered({ projectIds: [] }, () => false);
    await expectFiltered({ since: 10_100, until: 10_200 }, (e) => e.at >= 10_100 && e.at <= 10_200);
    await expectFiltered(
      { actor: 'key_bob', action: 'run.create', since: 10_200 },
      (e) => e.actor === 'key_bob' && e.action === 'run.create' && e.at >= 10_200,
    );
  });

  it('pages through audit events returning each exactly once', async () => {
    const { audit } = backend().stores;
    const actor = `key_pager_${newId('audit')}`;
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const id = newId('audit');
      ids.push(id);
      await audit.append({
        id,
        at: 50_000 + Math.floor(i / 5),
        actor: i % 4 === 0 ? 'key_noise' : actor,
        action: 'experiment.create',
        resourceType: 'experiment',
        resourceId: 'exp_x',
        projectId: 'prj_pages',
        before: null,
        after: null,
      });
    }
    const expected = ids.filter((_, i) => i % 4 !== 0).reverse();
    for (const limit of [1, 3, 7, expected.length, expected.length + 5]) {
      const got = await allPages(audit, { actor }, limit);
      expect(got.map((e) => e.id)).toEqual(expected);
    }
    const page = await audit.list({ actor }, expected.length);
    expect(page.nextPageToken).toBeNull();
    await expect(audit.list({ actor }, 5, 'not-a-token')).rejects.toBeInstanceOf(AppError);
  });
});
