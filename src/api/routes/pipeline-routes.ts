import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../../auth/index.ts';
import { versionNumber, versionQuery } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf, projectIdOf } from '../auth-hook.ts';
import { projectQuery } from './schemas.ts';

const project = { project: z.string().max(128).optional() };
const name = z.string().max(64);
const runId = z.object({ id: z.string().max(64) });
const paramValue = z.union([z.string().max(10_000), z.number(), z.boolean()]);

export function pipelineRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    const pipelines = ctx.pipelines;
    app.post(
      '/pipelines',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'Store a pipeline definition (a new version when it changed)',
          querystring: projectQuery,
          body: z
            .object({
              spec: z.unknown(),
              /** Where relative paths of command steps resolve: the directory of the pipeline file. */
              baseDir: z.string().max(4096).nullable().optional(),
              ...project,
            })
            .strict(),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        return pipelines.apply(principalOf(req), projectId, req.body.spec, req.body.baseDir ?? null);
      },
    );
    app.get(
      '/pipelines',
      { schema: { tags: ['pipelines'], summary: 'Pipelines (latest versions)', querystring: projectQuery } },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { pipelines: await pipelines.list(principalOf(req), projectId) };
      },
    );
    app.get(
      '/pipelines/:name',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'A pipeline definition and its next scheduled runs',
          params: z.object({ name }),
          querystring: projectQuery.extend({ version: versionQuery.optional() }),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        const def = await pipelines.get(principalOf(req), projectId, req.params.name, req.query.version);
        return { ...def, nextRuns: ctx.pipelineTriggers.nextRuns(projectId, def.name) };
      },
    );
    app.post(
      '/pipelines/:name/runs',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'Start a run (returns at once; poll the run)',
          params: z.object({ name }),
          querystring: projectQuery,
          body: z
            .object({
              params: z.record(z.string().max(128), paramValue).optional(),
              version: versionNumber.optional(),
              ...project,
            })
            .strict(),
        },
      },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const { run } = await pipelines.start(principalOf(req), projectId, req.params.name, {
          ...(req.body.params ? { params: req.body.params } : {}),
          ...(req.body.version ? { version: req.body.version } : {}),
        });
        return reply.status(202).send(await pipelines.getRun(principalOf(req), run.id));
      },
    );
    app.get(
      '/pipelines/:name/runs',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'Runs of a pipeline, newest first',
          params: z.object({ name }),
          querystring: projectQuery.extend({ limit: z.coerce.number().int().min(1).max(500).optional() }),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { runs: await pipelines.listRuns(principalOf(req), projectId, req.params.name, req.query.limit) };
      },
    );
    app.get(
      '/pipeline-runs/:id',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'A pipeline run with its steps (status, cache hit or miss and why)',
          params: runId,
        },
      },
      async (req) => pipelines.getRun(principalOf(req), req.params.id),
    );
    app.post(
      '/pipeline-runs/:id/resume',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'Continue a failed, cancelled or interrupted run without redoing finished steps',
          params: runId,
        },
      },
      async (req, reply) => {
        await pipelines.resume(principalOf(req), req.params.id);
        return reply.status(202).send(await pipelines.getRun(principalOf(req), req.params.id));
      },
    );
    app.post(
      '/pipeline-runs/:id/cancel',
      { schema: { tags: ['pipelines'], summary: 'Cancel a running run (running commands are stopped)', params: runId } },
      async (req) => {
        await pipelines.cancel(principalOf(req), req.params.id);
        return pipelines.getRun(principalOf(req), req.params.id);
      },
    );
    app.post(
      '/events',
      {
        schema: {
          tags: ['pipelines'],
          summary: 'Publish a domain event; pipelines with a matching event trigger start',
          querystring: projectQuery,
          body: z
            .object({
              topic: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
              payload: z.record(z.string().max(128), z.unknown()).optional(),
              ...project,
            })
            .strict(),
        },
      },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        authorize(principalOf(req), 'pipeline:run', projectId);
        await ctx.events.publish({ topic: req.body.topic, projectId, payload: req.body.payload ?? {}, at: ctx.clock.now() });
        return reply.status(202).send({ published: req.body.topic });
      },
    );
  };
}
