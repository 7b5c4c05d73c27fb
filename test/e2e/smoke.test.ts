import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

describe('server smoke', () => {
  let keel: TestKeel;
  beforeAll(async () => {
    keel = await startTestKeel();
  });
  afterAll(async () => keel.dispose());

  it('answers probes and authenticates with the bootstrap admin key', async () => {
    expect((await fetch(`${keel.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${keel.url}/readyz`)).status).toBe(200);
    const noKey = await fetch(`${keel.url}/api/v1/models`);
    expect(noKey.status).toBe(401);
    expect((await noKey.json()).error.code).toBe('UNAUTHENTICATED');
    const res = await fetch(`${keel.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${keel.adminKey}` } });
    expect(res.status).toBe(200);
    expect((await res.json()).role).toBe('admin');
    const doc = await (await fetch(`${keel.url}/api/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/api/v1/runs/search');
  });
});
