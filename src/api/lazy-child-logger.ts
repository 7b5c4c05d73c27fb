import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Fastify makes a child logger for every request (to bind its reqId); pino's child() serialises
 * the bindings each time, a few µs a request on a path that logs only on errors. This child is
 * made on the first line actually logged through it; its own children are lazy too. Its methods
 * live on the prototype, so a request costs one small object, not a set of closures.
 */
class LazyChildLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger | LazyChildLogger,
    private readonly bindings: Bindings,
    private readonly options: object | undefined,
  ) {}

  get logger(): FastifyBaseLogger {
    if (!this.real) {
      const parent = this.parent instanceof LazyChildLogger ? this.parent.logger : this.parent;
      this.real = parent.child(this.bindings, this.options);
    }
    return this.real;
  }

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(value: string) {
    this.logger.level = value;
  }

  /** pino's level table (Fastify checks a route's `logLevel` against it); children share it. */
  get levels(): unknown {
    return (this.parent as { levels?: unknown }).levels;
  }

  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return new LazyChildLogger(this, bindings, options) as unknown as FastifyBaseLogger;
  }
}

// One delegating method per level, made once for the class.
for (const level of levels) {
  Object.defineProperty(LazyChildLogger.prototype, level, {
    value(this: LazyChildLogger, ...args: unknown[]) {
      (this.logger[level] as (...a: unknown[]) => void)(...args);
    },
  });
}

export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, options?: object): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}

/**
 * `root` for Fastify's `loggerInstance`: it logs as `root` does, and its children are lazy
 * (Fastify's own root, made from it once, and from that one per request). Done on the instance
 * rather than with a `childLoggerFactory` because Fastify checks every child a factory of ours
 * returns for its seven methods, on every request.
 */
export function withLazyChildren(root: FastifyBaseLogger): FastifyBaseLogger {
  const logger = Object.create(root) as FastifyBaseLogger;
  logger.child = (bindings: Bindings, options?: object) => lazyChildLogger(root, bindings, options);
  return logger;
}
