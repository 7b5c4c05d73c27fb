import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Fastify makes a child logger for every request (to bind its reqId); pino's child() serialises
 * the bindings each time, a few µs a request on a path that logs only on errors. This child is
 * made on the first line actually logged through it. Its methods live on the prototype, so a
 * request costs one small object, not a set of closures.
 */
class LazyChildLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: object | undefined,
  ) {}

  get logger(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options);
    return this.real;
  }

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(value: string) {
    this.logger.level = value;
  }

  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.logger.child(bindings, options);
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
