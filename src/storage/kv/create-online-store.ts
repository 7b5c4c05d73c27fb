import { join, resolve } from 'node:path';
import type { KeelConfig } from '../../core/index.ts';
import { MemoryOnlineStore } from './memory-online-store.ts';
import type { OnlineStore } from './online-store.ts';
import { RedisOnlineStore } from './redis-online-store.ts';
import { SqliteOnlineStore } from './sqlite-online-store.ts';

/** Where the embedded online store lives: its own file beside the metadata database by default. */
export function onlineStorePathFor(config: Pick<KeelConfig, 'dataDir' | 'onlineStore'>): string {
  const store = config.onlineStore;
  if (store.driver === 'sqlite' && store.path) return store.path === ':memory:' ? ':memory:' : resolve(store.path);
  return join(resolve(config.dataDir), 'online.db');
}

/**
 * Opens the online store named by config. A Redis that is down does not fail this: calls fail
 * with UNAVAILABLE until it is back (see `openRedisConnection`).
 */
export async function createOnlineStore(config: Pick<KeelConfig, 'dataDir' | 'onlineStore'>): Promise<OnlineStore> {
  const store = config.onlineStore;
  switch (store.driver) {
    case 'memory':
      return new MemoryOnlineStore();
    case 'redis':
      return RedisOnlineStore.open({ url: store.url, keyPrefix: store.keyPrefix, commandTimeoutMs: store.commandTimeoutMs });
    default:
      return SqliteOnlineStore.open(onlineStorePathFor(config));
  }
}
