import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize } from '../../auth/index.ts';
import { AppError, parseDuration } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf, projectIdOf } from '../auth-hook.ts';
import { epochMs, projectQuery } from './schemas.ts';

const entityRow = z.record(z.string().max(128), z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]));
const duration = z.union([z.string().max(32), z.number().nonnegative()]);
const project = { project: z.string().max(128).optional() };

export function featureRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    const features = ctx.features;
    const jobs = ctx.materialization;
    app.post(
      '/features/apply',
      {
        schema: {
          tags: ['features'],
          summary: 'Plan (dryRun) or apply feature definitions; removed objects are deleted only with prune',
          querystring: projectQuery,
          body: z
            .object({ definitions: z.unknown(), prune: z.boolean().optional(), dryRun: z.boolean().optional(), ...project })
            .strict(),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        return features.apply(principalOf(req), projectId, req.body.definitions, {
          ...(req.body.prune !== undefined ? { prune: req.body.prune } : {}),
          ...(req.body.dryRun !== undefined ? { dryRun: req.body.dryRun } : {}),
        });
      },
    );
    app.get(
      '/features/objects',
      { schema: { tags: ['features'], summary: 'Applied definitions (latest versions)', querystring: projectQuery } },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { objects: await features.listObjects(principalOf(req), projectId) };
      },
    );
    app.post(
      '/features/online',
      {
        schema: {
          tags: ['features'],
          summary: 'Online feature values for entity rows, with a status per value',
          querystring: projectQuery,
          body: z
            .object({
              service: z.string().max(128).optional(),
              features: z.array(z.string().max(256)).min(1).max(2000).optional(),
              entities: z.array(entityRow).min(1).max(1000),
              maxAge: duration.optional(),
              ...project,
            })
            .strict()
            .refine((b) => (b.service ? 1 : 0) + (b.features ? 1 : 0) === 1, 'give either service or features'),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        return features.readOnline(principalOf(req), projectId, {
          entities: req.body.entities,
          ...(req.body.service ? { service: req.body.service } : {}),
          ...(req.body.features ? { features: req.body.features } : {}),
          ...(req.body.maxAge !== undefined ? { maxAgeMs: parseDuration(req.body.maxAge, 'maxAge') } : {}),
        });
      },
    );
    app.post(
      '/features/historical',
      {
        schema: {
          tags: ['features'],
          summary: 'Point-in-time correct training data (Parquet), for entity rows or every source row in a time range',
          querystring: projectQuery,
          body: z
            .object({
              service: z.string().max(128),
              entities: z.array(entityRow).min(1).max(100_000).optional(),
              range: z.object({ start: epochMs, end: epochMs }).strict().optional(),
              timestampColumn: z.string().max(128).optional(),
              ...project,
            })
            .strict()
            .refine((b) => (b.entities ? 1 : 0) + (b.range ? 1 : 0) === 1, 'give either entities or range'),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const b = req.body;
        const result = await features.historical(principalOf(req), projectId, {
          service: b.service,
          entities: b.entities ? { rows: b.entities } : { range: b.range as { start: number; end: number } },
          ...(b.timestampColumn ? { timestampColumn: b.timestampColumn } : {}),
        });
        const id = result.output.split('/').pop()?.replace('.parquet', '') ?? '';
        return {
          id,
          rows: result.rows,
          columns: result.columns,
          featureService: result.featureService,
          download: `/api/v1/features/retrievals/${id}`,
        };
      },
    );
    app.get(
      '/features/retrievals/:id',
      {
        schema: {
          tags: ['features'],
          summary: 'Download a historical retrieval as Parquet',
          params: z.object({ id: z.string().regex(/^ret_[0-9a-z]{16}$/) }),
        },
      },
      async (req, reply) => {
        authorize(principalOf(req), 'features:read');
        const path = join(resolve(ctx.config.dataDir), 'retrievals', `${req.params.id}.parquet`);
        const info = await stat(path).catch(() => null);
        if (!info) throw new AppError('NOT_FOUND', `retrieval '${req.params.id}' does not exist`);
        reply.header('content-type', 'application/vnd.apache.parquet');
        reply.header('content-length', String(info.size));
        return reply.send(createReadStream(path));
      },
    );
    app.post(
      '/features/materialize',
      {
        schema: {
          tags: ['features'],
          summary: 'Start materializing views into the online store (returns a job to poll)',
          querystring: projectQuery,
          body: z
            .object({
              start: epochMs.optional(),
              end: epochMs.optional(),
              incremental: z.boolean().optional(),
              views: z.array(z.string().max(128)).max(500).optional(),
              ...project,
            })
            .strict(),
        },
      },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        const { project: _p, ...rest } = req.body;
        const { job } = await jobs.start(principalOf(req), projectId, rest as Parameters<typeof jobs.start>[2]);
        return reply.status(202).send(job);
      },
    );
    app.get(
      '/features/materialize/:id',
      {
        schema: {
          tags: ['features'],
          summary: 'A materialization job and its progress',
          params: z.object({ id: z.string().max(64) }),
        },
      },
      async (req) => {
        authorize(principalOf(req), 'features:read');
        return jobs.get(req.params.id);
      },
    );
    app.post(
      '/features/push',
      {
        schema: {
          tags: ['features'],
          summary: 'Write feature rows straight to the online store (streaming)',
          querystring: projectQuery,
          body: z.object({ view: z.string().max(128), rows: z.array(entityRow).min(1).max(10_000), ...project }).strict(),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        return jobs.push(principalOf(req), projectId, { view: req.body.view, rows: req.body.rows });
      },
    );
    app.get(
      '/features/status',
      { schema: { tags: ['features'], summary: 'Freshness of each view against its max_staleness', querystring: projectQuery } },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { views: await jobs.status(principalOf(req), projectId) };
      },
    );
  };
}
