import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../../auth/index.ts';
import { AppError } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf } from '../auth-hook.ts';

export function inferenceLogRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/inference-log/query',
      {
        schema: {
          tags: ['serving'],
          summary: 'Run a read-only DuckDB query over the inference log (view `inference_log`); admin only: it spans projects',
          body: z
            .object({ sql: z.string().min(1).max(20_000), maxRows: z.number().int().min(1).max(100_000).optional() })
            .strict(),
        },
      },
      async (req) => {
        authorize(principalOf(req), 'key:manage');
        const log = ctx.predictPath.log;
        if (!log) throw new AppError('UNAVAILABLE', 'the inference log is not enabled on this server');
        return log.queryLog(req.body.sql, req.body.maxRows ? { maxRows: req.body.maxRows } : {});
      },
    );
    app.post(
      '/inference-log/:requestId/replay',
      {
        schema: {
          tags: ['serving'],
          summary: 'Recompute a logged prediction from its record and say whether it matches exactly',
          params: z.object({ requestId: z.string().max(128) }),
        },
      },
      async (req) => ctx.replay(principalOf(req), req.params.requestId),
    );
  };
}
