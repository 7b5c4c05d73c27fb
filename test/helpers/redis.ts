import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { testServiceEnv } from '../../src/core/index.ts';

const env = testServiceEnv();
export const testRedisUrl = env.redisUrl;

const redact = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

async function withClient<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(env.redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError: Error | undefined;
  client.on('error', (e: Error) => {
    lastError = e;
  });
  try {
    await client.connect().catch((e: Error) => {
      // ioredis reports a refused connection as 'Connection is closed'; the socket error says why.
      throw lastError ?? e;
    });
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** Null when Redis answers, otherwise why not. Probed once per test file. */
let probe: Promise<string | null> | undefined;
const redisProblem = () => {
  probe ??= withClient((c) => c.ping()).then(
    () => null,
    (e: Error) => `Redis at ${redact(env.redisUrl)} is unreachable (${e.message})`,
  );
  return probe;
};

/**
 * Whether Redis suites run here: null to run them, or the reason they are skipped. On CI an
 * unreachable Redis is not a skip: the suites run and fail in `requireRedis()`.
 */
export async function redisSkipReason(): Promise<string | null> {
  const problem = await redisProblem();
  if (!problem || env.ci) return null;
  return `${problem}; skipping Redis suites (start Redis or set KEEL_TEST_REDIS_URL, or CI=true to make this fail)`;
}

/** Throws when Redis is unreachable (call it where the suite opens its store). */
export async function requireRedis(): Promise<void> {
  const problem = await redisProblem();
  if (problem) throw new Error(`${problem}${env.ci ? '; CI=true requires the Redis suites to run' : ''}`);
}

/** A key prefix no other test or run shares; CI reuses one server. */
export const testKeyPrefix = (label: string) => `keel-test:${label}:${randomBytes(6).toString('hex')}:`;

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

async function scanUnder(client: Redis, prefix: string, each: (keys: string[]) => Promise<unknown>): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1000);
    if (keys.length > 0) await each(keys);
    cursor = next;
  } while (cursor !== '0');
}

export function countKeysUnder(prefix: string): Promise<number> {
  return withClient(async (client) => {
    let n = 0;
    await scanUnder(client, prefix, async (keys) => {
      n += keys.length;
    });
    return n;
  });
}

/** Removes every key under `prefix`; returns how many there were. */
export function deleteKeysUnder(prefix: string): Promise<number> {
  return withClient(async (client) => {
    let n = 0;
    await scanUnder(client, prefix, async (keys) => {
      n += await client.unlink(...keys);
    });
    return n;
  });
}

/** A local port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A server that completes the client's handshake (CLIENT …, INFO) like Redis and then never
 * answers again: what a hung or overloaded Redis looks like to a connected client.
 */
export async function stalledRedisServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let handshakeDone = false;
    socket.on('data', (data) => {
      // Commands arrive as RESP arrays; the first bulk string of each is its name.
      for (const match of data.toString('latin1').matchAll(/\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n/g)) {
        if (handshakeDone) return;
        const name = (match[1] ?? '').toLowerCase();
        if (name === 'info') {
          const info = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';
          socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
          handshakeDone = true;
        } else {
          socket.write('+OK\r\n');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
