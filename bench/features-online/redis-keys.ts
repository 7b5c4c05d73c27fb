import type { Redis } from 'ioredis';

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/** Deletes every key under `prefix` (SCAN + UNLINK); returns how many there were. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 5000);
    if (keys.length > 0) n += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return n;
}

/** Redis `used_memory` in bytes. */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}
