import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf, projectIdOf } from '../auth-hook.ts';
import { projectQuery } from './schemas.ts';

const modelParams = z.object({ name: z.string().max(128) });
const versionParams = modelParams.extend({ ref: z.string().max(64) });
const project = z.string().max(128).optional();

/** Promotion gates: the policy of a model, approvals of its versions, and dry runs of the gate. */
export function promotionRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.put(
      '/models/:name/policy',
      {
        schema: {
          tags: ['registry'],
          summary: 'Set the promotion policy of a model (admin): `yaml` text or a `policy` object',
          params: modelParams,
          querystring: projectQuery,
          body: z
            .object({
              yaml: z.string().min(1).max(200_000).optional(),
              policy: z.record(z.string(), z.unknown()).optional(),
              project,
            })
            .strict(),
        },
      },
      async (req) => {
        const { yaml, policy } = req.body;
        if ((yaml === undefined) === (policy === undefined)) {
          throw new AppError('VALIDATION_FAILED', 'give the policy either as `yaml` text or as a `policy` object');
        }
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const input = yaml !== undefined ? { yaml } : { policy };
        return ctx.promotion.setPolicy(principalOf(req), projectId, req.params.name, input);
      },
    );
    app.get(
      '/models/:name/policy',
      {
        schema: {
          tags: ['registry'],
          summary: 'The promotion policy of a model',
          params: modelParams,
          querystring: projectQuery,
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.promotion.getPolicy(principalOf(req), projectId, req.params.name);
      },
    );
    app.post(
      '/models/:name/versions/:ref/approvals',
      {
        schema: {
          tags: ['registry'],
          summary: 'Approve a version for a protected alias (deployer; not the principal who registered it)',
          params: versionParams,
          querystring: projectQuery,
          body: z
            .object({ alias: z.string().max(64).nullable().optional(), comment: z.string().max(2000).optional(), project })
            .strict()
            .default({}),
        },
      },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const approval = await ctx.promotion.approve(principalOf(req), projectId, req.params.name, req.params.ref, {
          alias: req.body.alias ?? null,
          ...(req.body.comment !== undefined ? { comment: req.body.comment } : {}),
        });
        return reply.status(approval.created ? 201 : 200).send(approval);
      },
    );
    app.get(
      '/models/:name/versions/:ref/gates',
      {
        schema: {
          tags: ['registry'],
          summary: 'Dry-run the promotion gate for a version (every protected alias, or `alias`) and list stored results',
          params: versionParams,
          querystring: projectQuery.extend({ alias: z.string().max(64).optional() }),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.promotion.evaluate(principalOf(req), projectId, req.params.name, req.params.ref, req.query.alias);
      },
    );
  };
}
