import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { versionNumber } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf, projectIdOf } from '../auth-hook.ts';
import { projectQuery } from './schemas.ts';

const name = z.object({ name: z.string().max(64) });
const project = { project: z.string().max(128).optional() };

export function deploymentRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    const deployments = ctx.deployments;
    app.put(
      '/deployments/:name',
      {
        schema: {
          tags: ['deployments'],
          summary:
            'Create a deployment or switch it (blue-green: the target model is loaded and warmed first; 422 MODEL_LOAD_FAILED when it cannot load) to another model version, alias or options',
          params: name,
          querystring: projectQuery,
          body: z
            .object({
              model: z.string().max(128),
              ref: z.union([z.object({ alias: z.string().max(64) }), z.object({ version: versionNumber })]),
              options: z.record(z.string().max(64), z.unknown()).optional(),
              reason: z.string().max(1000).optional(),
              ...project,
            })
            .strict(),
        },
      },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const { reason, project: _p, ...spec } = req.body;
        const res = await deployments.deploy(principalOf(req), projectId, req.params.name, spec, reason ?? '');
        return reply.status(res.created ? 201 : 200).send({ ...res.deployment, version: res.version });
      },
    );
    app.get(
      '/deployments',
      { schema: { tags: ['deployments'], summary: 'Deployments of a project', querystring: projectQuery } },
      async (req) => ({ deployments: await deployments.list(principalOf(req), await projectIdOf(ctx, req.query.project)) }),
    );
    app.get(
      '/deployments/:name',
      {
        schema: {
          tags: ['deployments'],
          summary: 'A deployment and its revisions, newest first',
          params: name,
          querystring: projectQuery,
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        const d = await deployments.get(principalOf(req), projectId, req.params.name);
        return { ...d, revisions: await deployments.revisions(principalOf(req), projectId, req.params.name) };
      },
    );
    app.post(
      '/deployments/:name/rollback',
      {
        schema: {
          tags: ['deployments'],
          summary:
            'Serve again the model version served before the last change (an alias move or a revision), pinned; `revision` picks one',
          params: name,
          querystring: projectQuery,
          body: z.object({ revision: versionNumber.optional(), reason: z.string().max(1000).optional(), ...project }).strict(),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const res = await deployments.rollback(
          principalOf(req),
          projectId,
          req.params.name,
          req.body.revision,
          req.body.reason ?? '',
        );
        return { ...res.deployment, version: res.version };
      },
    );
  };
}
