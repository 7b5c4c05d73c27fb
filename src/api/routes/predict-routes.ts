import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, CancelToken } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { installAuthHook, principalOf, projectIdOf } from '../auth-hook.ts';

const record = z.record(z.string().max(256), z.unknown());

/**
 * The data plane's predict API: `POST /v1/deployments/{name}/predict`. Nothing here reads the
 * metadata database once warm: the auth service keeps API keys (stale on error) and projects
 * (never renamed) in memory, and the predict path keeps its routes.
 */
export function predictRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    installAuthHook(app, ctx);
    app.post(
      '/deployments/:name/predict',
      {
        schema: {
          hide: true,
          params: z.object({ name: z.string().max(64) }),
          querystring: z.object({ project: z.string().max(128).optional() }),
          body: z
            .object({
              record: record.optional(),
              records: z.array(record).min(1).max(10_000).optional(),
              parameters: z
                .object({
                  timeout: z.number().int().min(1).max(600_000).optional(),
                  priority: z.number().int().min(-100).max(100).optional(),
                })
                .strict()
                .optional(),
            })
            .strict()
            .refine((b) => (b.record ? 1 : 0) + (b.records ? 1 : 0) === 1, 'give either record or records'),
        },
      },
      async (req, reply) => {
        // Work for a client that went away is dropped from the batch queue. The response's 'close'
        // (not the request's, which fires as soon as the body has been read) tells: before the
        // answer is written out, it means the connection is gone.
        const gone = new CancelToken();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) gone.cancel(new AppError('CLIENT_CLOSED', 'the client closed the connection'));
        });
        const body = req.body;
        const res = await ctx.predict.predict(principalOf(req), await projectIdOf(ctx, req.query.project), req.params.name, {
          records: body.records ?? [body.record as Record<string, unknown>],
          ...(body.parameters?.timeout !== undefined ? { timeoutMs: body.parameters.timeout } : {}),
          ...(body.parameters?.priority !== undefined ? { priority: body.parameters.priority } : {}),
          signal: gone,
        });
        return reply.header('x-request-id', res.request_id).send(res);
      },
    );
  };
}
