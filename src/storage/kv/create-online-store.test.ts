import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError, loadConfig } from '../../core/index.ts';
import { createOnlineStore, onlineStorePathFor } from './create-online-store.ts';
import { MemoryOnlineStore } from './memory-online-store.ts';
import { SqliteOnlineStore } from './sqlite-online-store.ts';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('online store config and factory', () => {
  it('defaults to SQLite in the data dir and reads the driver and URL from KEEL_ONLINE_STORE_*', () => {
    const defaults = loadConfig({ env: { KEEL_DATA_DIR: '/data' }, file: '/dev/null' });
    expect(defaults.onlineStore).toEqual({ driver: 'sqlite' });
    expect(onlineStorePathFor(defaults)).toBe('/data/online.db');
    const redis = loadConfig({
      env: { KEEL_ONLINE_STORE_DRIVER: 'redis', KEEL_ONLINE_STORE_URL: 'redis://r:6379' },
      file: '/dev/null',
    });
    expect(redis.onlineStore).toEqual({ driver: 'redis', url: 'redis://r:6379', keyPrefix: 'keel:', commandTimeoutMs: 1000 });
    expect(() => loadConfig({ env: { KEEL_ONLINE_STORE_DRIVER: 'redis' }, file: '/dev/null' })).toThrow(AppError);
    expect(() => loadConfig({ env: { KEEL_ONLINE_STORE_DRIVER: 'cassandra' }, file: '/dev/null' })).toThrow(/onlineStore/);
  });

  it('opens the configured adapter, and the SQLite file keeps its rows across a reopen', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keel-online-cfg-'));
    dirs.push(dataDir);
    const config = loadConfig({ env: {}, file: '/dev/null', overrides: { dataDir } });
    expect(await createOnlineStore({ ...config, onlineStore: { driver: 'memory' } })).toBeInstanceOf(MemoryOnlineStore);
    const first = await createOnlineStore(config);
    expect(first).toBeInstanceOf(SqliteOnlineStore);
    await first.write({ view: 'v', features: ['f'], entityKeys: ['e'], eventTimes: [3], columns: [['kept']] });
    await first.close();
    const again = await createOnlineStore(config);
    expect(await again.read([{ view: 'v', entityKeys: ['e'], features: ['f'] }])).toEqual([
      { eventTimes: [3], values: [['kept']] },
    ]);
    await again.close();
  });
});
