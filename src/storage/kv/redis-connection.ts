import { type ChainableCommander, Redis, ReplyError } from 'ioredis';
import { AppError } from '../../core/index.ts';

export interface RedisConnectionOptions {
  url: string;
  /** Shown in `CLIENT LIST`. */
  name: string;
  /** How long opening waits for the first connection. Default 2000. */
  connectTimeoutMs?: number;
  /** A command not answered within this rejects. Default 1000. */
  commandTimeoutMs?: number;
}

/** An ioredis client that fails fast, and the mapping of its errors onto AppError codes. */
export interface RedisConnection {
  redis: Redis;
  /** UNAVAILABLE for connection loss, timeouts and a server that cannot serve now; INTERNAL otherwise. */
  failure(e: unknown, what: string): AppError;
  /** Runs a pipeline; the first failed command (or the connection) rejects it as an AppError. */
  exec(pipeline: ChainableCommander, what: string): Promise<unknown[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const transient = /^(LOADING|BUSY|OOM|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)/;

/**
 * Connects, waiting at most the connect timeout. A server that is down is not an error here: the
 * client keeps reconnecting in the background and every call fails at once until it is back, so a
 * caller (the serving gateway's breaker) degrades instead of hanging or refusing to start.
 */
export async function openRedisConnection(options: RedisConnectionOptions): Promise<RedisConnection> {
  const connectTimeout = options.connectTimeoutMs ?? 2000;
  const redis = new Redis(options.url, {
    lazyConnect: true,
    connectTimeout,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    // While disconnected, commands reject at once instead of waiting in a queue.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    connectionName: options.name,
    disableClientInfo: true,
  });
  let lastError: string | null = null;
  // Errors reach callers through their own commands; unheard, ioredis would print each one.
  redis.on('error', (e: Error) => {
    lastError = e.message;
  });
  redis.on('ready', () => {
    lastError = null;
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.connect().catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, connectTimeout);
    }),
  ]);
  clearTimeout(timer);

  const failure = (e: unknown, what: string): AppError => {
    if (e instanceof AppError) return e;
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof ReplyError && !transient.test(message)) return new AppError('INTERNAL', `redis ${what}: ${message}`);
    const why = redis.status === 'ready' ? message : `not connected (${redis.status}${lastError ? `: ${lastError}` : ''})`;
    return new AppError('UNAVAILABLE', `redis unavailable during ${what}: ${why}`);
  };

  return {
    redis,
    failure,
    async exec(pipeline, what) {
      let replies: [Error | null, unknown][] | null;
      try {
        replies = await pipeline.exec();
      } catch (e) {
        throw failure(e, what);
      }
      if (!replies) throw new AppError('UNAVAILABLE', `redis ${what}: pipeline discarded`);
      return replies.map(([err, reply]) => {
        if (err) throw failure(err, what);
        return reply;
      });
    },
    async ping() {
      try {
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
