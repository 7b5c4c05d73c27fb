import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../core/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** False when the raw JSON body cannot hold a U+0000 anywhere, so the NUL walk can be skipped. */
    bodyMayHoldNul?: boolean;
  }
}

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
  // Path parameters and the query come from the URL, where a NUL can only arrive percent-encoded
  // (Node's parser refuses a raw one): a URL without `%00` spares walking them on every request.
  const urlMayHoldNul = req.url.includes('%00');
  const bodyMayHoldNul = req.bodyMayHoldNul !== false;
  if (!urlMayHoldNul && !bodyMayHoldNul) return;
  // The artifact path (`*`) is left to the service, which refuses NUL there as INVALID_PATH.
  const { '*': _artifactPath, ...params } = (req.params ?? {}) as Record<string, unknown>;
  for (const [where, value] of [
    ['params', urlMayHoldNul ? params : null],
    ['querystring', urlMayHoldNul ? req.query : null],
    ['body', bodyMayHoldNul ? req.body : null],
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

/**
 * Fastify's own JSON parser (prototype poisoning refused), which also notes whether the body
 * could hold a NUL: JSON carries U+0000 only as the escape `\u0000` (a raw control character is
 * invalid JSON), so a body without that text has none, and walking a large body is skipped.
 */
export function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    req.bodyMayHoldNul = text.includes('\\u0000');
    parse(req, text, done);
  });
}

/** Checks that apply to every route before its own schema runs. */
export function installInputGuards(app: FastifyInstance): void {
  // Callback style: this runs on every request, and an async hook costs a promise and a microtask.
  app.addHook('preValidation', (req, _reply, done) => {
    // A stream sent to a JSON route would fail validation with a dump of the stream's own fields.
    if (req.body instanceof Readable && req.routeOptions.schema?.body) {
      done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'this endpoint takes a JSON body: send content-type application/json'));
      return;
    }
    try {
      // Postgres text cannot hold NUL; refusing it here makes both backends answer the same 400.
      checkNul(req);
    } catch (e) {
      done(e as Error);
      return;
    }
    done();
  });
}
