import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
type Log = (...args: unknown[]) => void;

/**
 * Fastify makes a child logger for every request (to bind its reqId); pino's child() serialises
 * the bindings each time, a few µs a request on a path that logs only on errors. This child is
 * made on the first line actually logged through it. A class, not closures: under tsx every
 * named closure made per request costs a __name() call too.
 */
class LazyChildLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: object | undefined,
  ) {}

  private get logger(): FastifyBaseLogger {
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

  fatal(...args: unknown[]): void {
    (this.logger.fatal as Log)(...args);
  }

  error(...args: unknown[]): void {
    (this.logger.error as Log)(...args);
  }

  warn(...args: unknown[]): void {
    (this.logger.warn as Log)(...args);
  }

  info(...args: unknown[]): void {
    (this.logger.info as Log)(...args);
  }

  debug(...args: unknown[]): void {
    (this.logger.debug as Log)(...args);
  }

  trace(...args: unknown[]): void {
    (this.logger.trace as Log)(...args);
  }

  silent(...args: unknown[]): void {
    (this.logger.silent as Log)(...args);
  }
}

export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, options?: object): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}
