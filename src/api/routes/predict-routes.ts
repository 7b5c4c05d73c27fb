import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app-context.ts';
import { installAuthHook, principalOf, projectIdOf } from '../auth-hook.ts';
import { toErrorResponse } from '../error-handler.ts';
import { cancelOnClose } from './client-gone.ts';

const record = z.record(z.string().max(256), z.unknown());

/**
 * The data plane's predict API: `POST /v1/deployments/{name}/predict`. Nothing here reads the
 * metadata database once warm: the auth service keeps API keys (stale on error) and projects
 * (never renamed) in memory, and the predict path keeps its routes.
 */
export function predictRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    installAuthHook(app, ctx);
    // Requests refused before the predict service sees them (authentication, malformed JSON, a body
    // the schema rejects) count in keel_predict_requests_total too, under the code they are answered with.
    app.addHook('onError', async (req, _reply, error) => {
      if (ctx.predict.hasCounted(error)) return;
      const name = (req.params as { name?: unknown } | undefined)?.name;
      ctx.predict.countRefused(typeof name === 'string' ? name : '', toErrorResponse(error).body.error.code);
    });
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
        // Work for a client that went away is dropped from the batch queue.
        const gone = cancelOnClose(reply.raw);
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
