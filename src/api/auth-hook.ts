import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/index.ts';
import { AppError } from '../core/index.ts';
import type { AppContext } from './app-context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Authenticates every request in the scope it is registered in (the /api/v1 routes). */
export function installAuthHook(app: FastifyInstance, ctx: AppContext): void {
  // Callback style with a synchronous path for keys in the auth cache: no promise per request.
  app.addHook('onRequest', (req, _reply, done) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (header && !token) {
      done(new AppError('UNAUTHENTICATED', 'use Authorization: Bearer <key>'));
      return;
    }
    let cached: Principal | undefined;
    try {
      cached = token ? ctx.auth.authenticateCached(token) : undefined;
    } catch (e) {
      done(e as Error);
      return;
    }
    if (cached) {
      req.principal = cached;
      done();
      return;
    }
    ctx.auth.authenticate(token).then((principal) => {
      req.principal = principal;
      done();
    }, done);
  });
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('UNAUTHENTICATED', 'missing API key');
  return req.principal;
}

/** Resolves the `project` a request names (default: `default`) to its id. */
export async function projectIdOf(ctx: AppContext, name: string | undefined): Promise<string> {
  return (await ctx.auth.resolveProject(name ?? 'default')).id;
}
