import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DatasetSourceInput } from '../../datasets/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf, projectIdOf } from '../auth-hook.ts';
import { epochMs, projectQuery, resourceName } from './schemas.ts';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');
const path = z.string().min(1).max(4096);
export const datasetSource = z.union([
  z.object({ files: z.array(path).min(1).max(1000) }).strict(),
  z.object({ query: z.string().min(1).max(100_000) }).strict(),
  z.object({ upload: z.union([digest, z.array(digest).min(1).max(1000)]) }).strict(),
]);
/** A stored contract (`name` or `name@version`) or inline YAML. */
const contractFields = {
  contract: z.string().min(1).max(200).optional(),
  contractYaml: z.string().min(1).max(1_000_000).optional(),
};
const asOf = z.union([epochMs, z.iso.datetime({ offset: true })]).optional();
const versionParams = z.object({ id: z.string().max(64) });

const toMs = (v: number | string | undefined) => (typeof v === 'string' ? Date.parse(v) : v);

export function datasetRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/datasets',
      {
        schema: {
          tags: ['datasets'],
          summary: 'Register a dataset version from files, a DuckDB query or uploads (201 new, 200 same content as before)',
          querystring: projectQuery,
          body: z
            .object({
              name: resourceName,
              project: z.string().max(128).optional(),
              description: z.string().max(5000).optional(),
              source: datasetSource,
              ...contractFields,
              lineage: z
                .object({
                  parents: z.array(z.string().max(64)).max(100).optional(),
                  step: z.string().max(256).optional(),
                  runId: z.string().max(64).optional(),
                })
                .strict()
                .optional(),
              asOf,
            })
            .strict(),
        },
      },
      async (req, reply) => {
        const { project, asOf: at, source, ...rest } = req.body;
        const projectId = await projectIdOf(ctx, project ?? req.query.project);
        const res = await ctx.datasets.register(principalOf(req), {
          projectId,
          ...rest,
          source: source as DatasetSourceInput,
          ...(at !== undefined ? { asOf: toMs(at) as number } : {}),
        });
        return reply.status(res.created ? 201 : 200).send({ ...res.version, created: res.created, report: res.report });
      },
    );
    app.get(
      '/datasets',
      { schema: { tags: ['datasets'], summary: 'List datasets with their latest version', querystring: projectQuery } },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { datasets: await ctx.datasets.listDatasets(principalOf(req), projectId) };
      },
    );
    app.get(
      '/datasets/:name',
      {
        schema: {
          tags: ['datasets'],
          summary: 'A dataset and its versions, newest first',
          params: z.object({ name: z.string().max(128) }),
          querystring: projectQuery,
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.datasets.getDataset(principalOf(req), projectId, req.params.name);
      },
    );
    app.get(
      '/datasets/versions/:id',
      {
        schema: {
          tags: ['datasets'],
          summary: 'A version: schema, profile, lineage, contract report',
          params: versionParams,
          querystring: projectQuery,
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.datasets.getVersion(principalOf(req), projectId, req.params.id);
      },
    );
    app.get(
      '/datasets/versions/:id/profile',
      {
        schema: {
          tags: ['datasets'],
          summary: 'The profile computed at registration',
          params: versionParams,
          querystring: projectQuery,
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.datasets.getProfile(principalOf(req), projectId, req.params.id);
      },
    );
    app.post(
      '/datasets/validate',
      {
        schema: {
          tags: ['datasets'],
          summary: 'Check a version or a source against a contract; the report says pass or fail (nothing is stored)',
          querystring: projectQuery,
          body: z
            .object({
              project: z.string().max(128).optional(),
              version: z.string().max(64).optional(),
              source: datasetSource.optional(),
              ...contractFields,
              asOf,
            })
            .strict(),
        },
      },
      async (req) => {
        const { project, asOf: at, source, ...rest } = req.body;
        const projectId = await projectIdOf(ctx, project ?? req.query.project);
        return ctx.datasets.validate(principalOf(req), {
          projectId,
          ...rest,
          ...(source ? { source: source as DatasetSourceInput } : {}),
          ...(at !== undefined ? { asOf: toMs(at) as number } : {}),
        });
      },
    );
  };
}
