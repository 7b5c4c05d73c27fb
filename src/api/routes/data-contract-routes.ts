import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app-context.ts';
import { principalOf, projectIdOf } from '../auth-hook.ts';
import { projectQuery } from './schemas.ts';

export function dataContractRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/datasets/contracts',
      {
        schema: {
          tags: ['datasets'],
          summary: 'Apply a data contract (YAML): 201 with a new version, 200 when unchanged',
          querystring: projectQuery,
          body: z.object({ yaml: z.string().min(1).max(1_000_000), project: z.string().max(128).optional() }).strict(),
        },
      },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const { contract, created } = await ctx.datasets.contracts.apply(principalOf(req), projectId, req.body.yaml);
        return reply.status(created ? 201 : 200).send({ ...contract, created });
      },
    );
    app.get(
      '/datasets/contracts',
      { schema: { tags: ['datasets'], summary: 'The latest version of each contract', querystring: projectQuery } },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { contracts: await ctx.datasets.contracts.list(principalOf(req), projectId) };
      },
    );
    app.get(
      '/datasets/contracts/:name',
      {
        schema: {
          tags: ['datasets'],
          summary: 'A contract (latest, or `name@version`)',
          params: z.object({ name: z.string().max(200) }),
          querystring: projectQuery,
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.datasets.contracts.get(principalOf(req), projectId, req.params.name);
      },
    );
  };
}
