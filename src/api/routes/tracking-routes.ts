import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { safeInteger } from '../../core/index.ts';
import { runStatuses } from '../../tracking/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf, projectIdOf } from '../auth-hook.ts';
import { epochMs, experimentName, keyValue, limitQuery, listQuery, projectQuery } from './schemas.ts';

const runId = z.object({ id: z.string().max(64) });
const metric = z
  .object({ key: z.string().max(250), value: z.number(), step: safeInteger.optional(), timestamp: epochMs.optional() })
  .strict();
const runInput = z
  .object({
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a dataset digest is sha256:<64 hex>'),
    name: z.string().max(256).default(''),
    context: z.string().max(64).default('training'),
  })
  .strict();

export function trackingRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/experiments',
      {
        schema: {
          tags: ['tracking'],
          summary: 'Create an experiment',
          querystring: projectQuery,
          body: z
            .object({
              name: experimentName,
              description: z.string().max(5000).optional(),
              project: z.string().max(128).optional(),
            })
            .strict(),
        },
      },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const exp = await ctx.tracking.createExperiment(principalOf(req), projectId, req.body);
        return reply.status(201).send(exp);
      },
    );
    app.get(
      '/experiments',
      { schema: { tags: ['tracking'], summary: 'List experiments', querystring: projectQuery } },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { experiments: await ctx.tracking.listExperiments(principalOf(req), [projectId]) };
      },
    );
    app.get('/experiments/:id', { schema: { tags: ['tracking'], params: runId } }, async (req) =>
      ctx.tracking.getExperiment(principalOf(req), req.params.id),
    );

    app.post(
      '/runs',
      {
        schema: {
          tags: ['tracking'],
          summary: 'Start a run (creates the experiment when the name is new)',
          querystring: projectQuery,
          body: z
            .object({
              experiment: experimentName,
              project: z.string().max(128).optional(),
              name: z.string().max(256).optional(),
              params: z.array(keyValue).max(100).optional(),
              tags: z.array(keyValue).max(100).optional(),
              inputs: z.array(runInput).max(100).optional(),
              codeVersion: z.string().max(256).nullable().optional(),
              parentRunId: z.string().max(64).nullable().optional(),
              startTime: epochMs.optional(),
            })
            .strict(),
        },
      },
      async (req, reply) => {
        const { project, ...rest } = req.body;
        const projectId = await projectIdOf(ctx, project ?? req.query.project);
        const run = await ctx.tracking.startRun(principalOf(req), { projectId, ...rest } as Parameters<
          typeof ctx.tracking.startRun
        >[1]);
        return reply.status(201).send(run);
      },
    );
    app.get(
      '/runs',
      {
        schema: {
          tags: ['tracking'],
          summary: 'List runs, newest first',
          querystring: projectQuery.extend({
            experiment: listQuery.optional(),
            limit: limitQuery,
            pageToken: z.string().max(2048).optional(),
          }),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        const page = await ctx.tracking.searchRuns(principalOf(req), {
          projectIds: [projectId],
          ...(req.query.experiment ? { experimentIds: req.query.experiment } : {}),
          ...(req.query.limit ? { maxResults: req.query.limit } : {}),
          ...(req.query.pageToken ? { pageToken: req.query.pageToken } : {}),
        });
        return { runs: page.items, nextPageToken: page.nextPageToken };
      },
    );
    app.post(
      '/runs/search',
      {
        schema: {
          tags: ['tracking'],
          summary: 'Search runs by metrics, params, tags and attributes',
          body: z
            .object({
              projects: z.array(z.string().max(128)).max(100).optional(),
              experimentIds: z.array(z.string().max(64)).max(100).optional(),
              filter: z.string().max(4000).optional(),
              orderBy: z.array(z.string().max(300)).max(5).optional(),
              maxResults: z.number().int().min(1).max(1000).optional(),
              pageToken: z.string().max(4096).optional(),
            })
            .strict(),
        },
      },
      async (req) => {
        const b = req.body;
        const projectIds = b.projects ? await Promise.all(b.projects.map((p) => projectIdOf(ctx, p))) : ('*' as const);
        const page = await ctx.tracking.searchRuns(principalOf(req), {
          projectIds,
          ...(b.experimentIds ? { experimentIds: b.experimentIds } : {}),
          ...(b.filter !== undefined ? { filter: b.filter } : {}),
          ...(b.orderBy ? { orderBy: b.orderBy } : {}),
          ...(b.maxResults ? { maxResults: b.maxResults } : {}),
          ...(b.pageToken ? { pageToken: b.pageToken } : {}),
        });
        return { runs: page.items, nextPageToken: page.nextPageToken };
      },
    );
    app.get('/runs/:id', { schema: { tags: ['tracking'], params: runId } }, async (req) =>
      ctx.tracking.getRun(principalOf(req), req.params.id),
    );
    app.patch(
      '/runs/:id',
      {
        schema: {
          tags: ['tracking'],
          summary: 'Change a run status (RUNNING → FINISHED | FAILED | KILLED)',
          params: runId,
          body: z.object({ status: z.enum(runStatuses), endTime: epochMs.optional() }).strict(),
        },
      },
      async (req) =>
        ctx.tracking.updateRun(
          principalOf(req),
          req.params.id,
          req.body as { status: (typeof runStatuses)[number]; endTime?: number },
        ),
    );
    app.post(
      '/runs/:id/log',
      {
        schema: {
          tags: ['tracking'],
          summary: 'Log metrics (≤1000), params and tags in one atomic batch',
          params: runId,
          body: z
            .object({
              metrics: z.array(metric).max(1000).optional(),
              params: z.array(keyValue).max(100).optional(),
              tags: z.array(keyValue).max(100).optional(),
            })
            .strict(),
        },
      },
      async (req, reply) => {
        await ctx.tracking.logBatch(principalOf(req), req.params.id, req.body as Parameters<typeof ctx.tracking.logBatch>[2]);
        return reply.status(204).send();
      },
    );
    app.post(
      '/runs/:id/inputs',
      {
        schema: {
          tags: ['tracking'],
          summary: 'Record dataset inputs',
          params: runId,
          body: z.object({ inputs: z.array(runInput).min(1).max(100) }).strict(),
        },
      },
      async (req, reply) => {
        await ctx.tracking.logInputs(principalOf(req), req.params.id, req.body.inputs);
        return reply.status(204).send();
      },
    );
    app.delete(
      '/runs/:id/tags/:key',
      { schema: { tags: ['tracking'], params: z.object({ id: z.string().max(64), key: z.string().max(250) }) } },
      async (req, reply) => {
        await ctx.tracking.deleteTag(principalOf(req), req.params.id, req.params.key);
        return reply.status(204).send();
      },
    );
    app.get(
      '/runs/:id/metrics/:key',
      {
        schema: {
          tags: ['tracking'],
          summary: 'Full history of one metric',
          params: z.object({ id: z.string().max(64), key: z.string().max(250) }),
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(25000).optional(),
            pageToken: z.string().max(256).optional(),
          }),
        },
      },
      async (req) => {
        const page = await ctx.tracking.metricHistory(
          principalOf(req),
          req.params.id,
          req.params.key,
          req.query.limit ?? 10000,
          req.query.pageToken,
        );
        return { metrics: page.items, nextPageToken: page.nextPageToken };
      },
    );
  };
}
