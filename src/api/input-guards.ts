import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/index.ts';

/**
 * Where the first U+0000 sits in a parsed value (a JSON pointer), or null. Walks with an explicit
 * stack: bodies may nest tens of thousands of levels deep within the body limit.
 */
export function findNul(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v === 'string') {
      if (v.includes('\0')) return path || '/';
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}/${i}`]);
    } else if (typeof v === 'object' && v !== null && !(v instanceof Readable)) {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\0')) return `${path}/${k.replaceAll('\0', '\\u0000')}`;
        stack.push([child, `${path}/${k}`]);
      }
    }
  }
  return null;
}

function checkNul(req: FastifyRequest): void {
  // The artifact path (`*`) is left to the service, which refuses NUL there as INVALID_PATH.
  const { '*': _artifactPath, ...params } = (req.params ?? {}) as Record<string, unknown>;
  for (const [where, value] of [
    ['params', params],
    ['querystring', req.query],
    ['body', req.body],
  ] as const) {
    const at = findNul(value);
    if (at !== null) {
      throw new AppError(
        'VALIDATION_FAILED',
        `invalid ${where}: ${at} contains a NUL character (U+0000), which no field accepts`,
      );
    }
  }
}

/** Checks that apply to every route before its own schema runs. */
export function installInputGuards(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    // A stream sent to a JSON route would fail validation with a dump of the stream's own fields.
    if (req.body instanceof Readable && req.routeOptions.schema?.body) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'this endpoint takes a JSON body: send content-type application/json');
    }
    // Postgres text cannot hold NUL; refusing it here makes both backends answer the same 400.
    checkNul(req);
  });
}
