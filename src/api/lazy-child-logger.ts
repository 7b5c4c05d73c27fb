import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
const methods = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Fastify makes a child logger for every request (to bind its reqId); pino's child() serialises
 * the bindings each time, a few µs a request on a path that logs only on errors. This child is
 * made on the first line actually logged through it.
 */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, options?: object): FastifyBaseLogger {
  let real: FastifyBaseLogger | undefined;
  const get = () => {
    real ??= parent.child(bindings, options);
    return real;
  };
  const lazy = {
    get level() {
      return real?.level ?? parent.level;
    },
    set level(value: string) {
      get().level = value;
    },
    child: (more: Bindings, opts?: object) => get().child(more, opts),
  } as unknown as Record<string, unknown>;
  for (const m of methods) lazy[m] = (...args: unknown[]) => (get()[m] as (...a: unknown[]) => void)(...args);
  return lazy as unknown as FastifyBaseLogger;
}
