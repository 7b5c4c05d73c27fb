import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClientConfig, loadConfig } from './config.ts';
import { AppError, errorRegistry, exitCodeFor } from './errors.ts';

async function yamlFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-cfg-'));
  const path = join(dir, 'keel.yaml');
  await writeFile(path, text);
  return path;
}

describe('config: defaults ← keel.yaml ← KEEL_* ← flags', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({ env: {}, file: '/dev/null' });
    expect(c.server.port).toBe(7878);
    expect(c.dataDir).toBe('./.keel');
    expect(c.storage).toEqual({ driver: 'sqlite' });
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it('layers file, env and flags in that order', async () => {
    const file = await yamlFile('server:\n  port: 9000\n  host: 0.0.0.0\ndataDir: /from/file\nlog:\n  level: debug\n');
    const fromFile = loadConfig({ env: {}, file });
    expect([fromFile.server.port, fromFile.server.host, fromFile.dataDir, fromFile.log.level]).toEqual([
      9000,
      '0.0.0.0',
      '/from/file',
      'debug',
    ]);
    const withEnv = loadConfig({ env: { KEEL_PORT: '9100', KEEL_DATA_DIR: '/from/env' }, file });
    expect([withEnv.server.port, withEnv.server.host, withEnv.dataDir]).toEqual([9100, '0.0.0.0', '/from/env']);
    const withFlags = loadConfig({ env: { KEEL_PORT: '9100' }, file, overrides: { server: { port: 9200 } } });
    expect([withFlags.server.port, withFlags.server.host, withFlags.dataDir]).toEqual([9200, '0.0.0.0', '/from/file']);
  });

  it('selects Postgres by driver and requires its URL', () => {
    const pg = loadConfig({ env: { KEEL_STORAGE_DRIVER: 'postgres', KEEL_STORAGE_URL: 'postgres://x@h/db' }, file: '/dev/null' });
    expect(pg.storage).toMatchObject({ driver: 'postgres', url: 'postgres://x@h/db', poolSize: 10 });
    expect(() => loadConfig({ env: { KEEL_STORAGE_DRIVER: 'postgres' }, file: '/dev/null' })).toThrow(AppError);
  });

  it('refuses invalid values with CONFIG_INVALID naming the field', async () => {
    const err = (() => {
      try {
        loadConfig({ env: { KEEL_PORT: 'eighty' }, file: '/dev/null' });
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err?.message).toMatch(/port/);
    const bad = await yamlFile('server: [unclosed');
    expect(() => loadConfig({ env: {}, file: bad })).toThrow(/cannot read config file/);
  });

  it('client config comes from flags, then env, then the default URL', () => {
    expect(loadClientConfig({}, {})).toEqual({ url: 'http://127.0.0.1:7878' });
    expect(loadClientConfig({}, { KEEL_URL: 'http://h:1', KEEL_API_KEY: 'k' })).toEqual({ url: 'http://h:1', apiKey: 'k' });
    expect(loadClientConfig({ url: 'http://f:2' }, { KEEL_URL: 'http://h:1' }).url).toBe('http://f:2');
  });
});

describe('error registry', () => {
  it('maps every code to a 4xx/5xx status and a non-zero exit code', () => {
    for (const [code, { status, exit }] of Object.entries(errorRegistry)) {
      expect(status >= 400 && status < 600, code).toBe(true);
      expect(exit, code).toBeGreaterThan(0);
      expect(exitCodeFor(code)).toBe(exit);
    }
    expect(exitCodeFor('SOMETHING_UNKNOWN')).toBe(errorRegistry.INTERNAL.exit);
    const e = new AppError('PARAM_CONFLICT', 'no', { key: 'lr' });
    expect([e.status, e.exitCode, e.details]).toEqual([409, 6, { key: 'lr' }]);
  });
});
