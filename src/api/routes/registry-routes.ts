import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, versionNumber } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf, projectIdOf } from '../auth-hook.ts';
import { projectQuery, resourceName, timeQuery } from './schemas.ts';

const modelParams = z.object({ name: z.string().max(128) });
const versionParams = modelParams.extend({ ref: z.string().max(64) });
const aliasParams = modelParams.extend({ alias: z.string().max(64) });
const tensorSpec = z.object({
  name: z.string().max(256),
  dtype: z.string().max(64),
  shape: z.array(z.union([z.number().int(), z.string().max(64), z.null()])).max(32),
});
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');

const registerBody = z
  .object({
    project: z.string().max(128).optional(),
    source: z.union([
      z.object({ upload: digest }).strict(),
      z.object({ runId: z.string().max(64), path: z.string().max(1000) }).strict(),
    ]),
    signature: z.object({ inputs: z.array(tensorSpec).max(1000), outputs: z.array(tensorSpec).max(1000) }).optional(),
    metrics: z.record(z.string().max(250), z.number()).optional(),
    lineage: z
      .object({
        runId: z.string().max(64).nullable().optional(),
        datasetDigests: z.array(digest).max(100).optional(),
        codeVersion: z.string().max(256).nullable().optional(),
        featureService: z.string().max(256).nullable().optional(),
        evalDatasetDigest: digest.nullable().optional(),
      })
      .strict()
      .optional(),
    tags: z.record(z.string().max(250), z.string().max(5000)).optional(),
    description: z.string().max(5000).optional(),
  })
  .strict();

export function registryRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/uploads',
      {
        schema: { tags: ['registry'], summary: 'Upload a model file (application/octet-stream) → its digest' },
        bodyLimit: ctx.config.server.modelUploadLimitBytes,
      },
      async (req, reply) => {
        const body = req.body as Readable | undefined;
        if (!body || typeof body.pipe !== 'function')
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the file as application/octet-stream');
        return reply.status(201).send(await ctx.registry.upload(principalOf(req), body));
      },
    );
    app.post(
      '/models',
      {
        schema: {
          tags: ['registry'],
          summary: 'Create a registered model',
          querystring: projectQuery,
          body: z
            .object({ name: resourceName, description: z.string().max(5000).optional(), project: z.string().max(128).optional() })
            .strict(),
        },
      },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        return reply.status(201).send(await ctx.registry.createModel(principalOf(req), projectId, req.body));
      },
    );
    app.get('/models', { schema: { tags: ['registry'], summary: 'List models', querystring: projectQuery } }, async (req) => {
      const projectId = await projectIdOf(ctx, req.query.project);
      return { models: await ctx.registry.listModels(principalOf(req), [projectId]) };
    });
    app.get('/models/:name', { schema: { tags: ['registry'], params: modelParams, querystring: projectQuery } }, async (req) => {
      const principal = principalOf(req);
      const projectId = await projectIdOf(ctx, req.query.project);
      const model = await ctx.registry.getModel(principal, projectId, req.params.name);
      const versions = await ctx.registry.listVersions(principal, projectId, model.id);
      const aliases = Object.fromEntries(versions.flatMap((v) => v.aliases.map((a) => [a, v.version])));
      return { ...model, latestVersion: versions.at(-1)?.version ?? null, aliases };
    });
    app.get(
      '/models/:name/versions',
      { schema: { tags: ['registry'], params: modelParams, querystring: projectQuery } },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { versions: await ctx.registry.listVersions(principalOf(req), projectId, req.params.name) };
      },
    );
    app.post(
      '/models/:name/versions',
      {
        schema: {
          tags: ['registry'],
          summary: 'Register a version from an upload or a run artifact (creates the model when new)',
          params: z.object({ name: resourceName }),
          querystring: projectQuery,
          body: registerBody,
        },
      },
      async (req, reply) => {
        const { project, source, ...rest } = req.body;
        const projectId = await projectIdOf(ctx, project ?? req.query.project);
        const v = await ctx.registry.registerVersion(principalOf(req), {
          projectId,
          model: req.params.name,
          source:
            'upload' in source
              ? { kind: 'blob', digest: source.upload }
              : { kind: 'run', runId: source.runId, path: source.path },
          ...(rest as object),
        });
        return reply.status(201).send(v);
      },
    );
    app.get(
      '/models/:name/versions/:ref',
      { schema: { tags: ['registry'], params: versionParams, querystring: projectQuery } },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.registry.getVersion(principalOf(req), projectId, req.params.name, req.params.ref);
      },
    );
    app.get(
      '/models/:name/versions/:ref/artifact',
      { schema: { tags: ['registry'], summary: 'Download the ONNX file', params: versionParams, querystring: projectQuery } },
      async (req, reply) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        const { version, body } = await ctx.registry.openVersionArtifact(
          principalOf(req),
          projectId,
          req.params.name,
          req.params.ref,
        );
        reply.header('content-type', 'application/octet-stream');
        reply.header('content-length', String(version.artifactSize));
        reply.header('x-keel-digest', version.artifactDigest);
        return reply.send(body);
      },
    );
    app.put(
      '/models/:name/aliases/:alias',
      {
        schema: {
          tags: ['registry'],
          summary: 'Point an alias at a version (deployer role; promotion gates run here)',
          params: aliasParams,
          querystring: projectQuery,
          body: z
            .object({
              version: versionNumber,
              reason: z.string().max(2000).optional(),
              project: z.string().max(128).optional(),
            })
            .strict(),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.body.project ?? req.query.project);
        return ctx.registry.moveAlias(principalOf(req), {
          projectId,
          model: req.params.name,
          alias: req.params.alias,
          version: req.body.version,
          ...(req.body.reason !== undefined ? { reason: req.body.reason } : {}),
        });
      },
    );
    app.delete(
      '/models/:name/aliases/:alias',
      {
        schema: {
          tags: ['registry'],
          params: aliasParams,
          querystring: projectQuery.extend({ reason: z.string().max(2000).optional() }),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.registry.moveAlias(principalOf(req), {
          projectId,
          model: req.params.name,
          alias: req.params.alias,
          version: null,
          ...(req.query.reason !== undefined ? { reason: req.query.reason } : {}),
        });
      },
    );
    app.get(
      '/models/:name/aliases/:alias',
      {
        schema: {
          tags: ['registry'],
          summary: 'Where an alias points now, or at time `at`',
          params: aliasParams,
          querystring: projectQuery.extend({ at: timeQuery.optional() }),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return ctx.registry.aliasAt(
          principalOf(req),
          projectId,
          req.params.name,
          req.params.alias,
          req.query.at ?? ctx.clock.now(),
        );
      },
    );
    app.get(
      '/models/:name/alias-history',
      {
        schema: {
          tags: ['registry'],
          summary: 'Every alias move: who, from which version to which, when, why',
          params: modelParams,
          querystring: projectQuery.extend({ alias: z.string().max(64).optional() }),
        },
      },
      async (req) => {
        const projectId = await projectIdOf(ctx, req.query.project);
        return { moves: await ctx.registry.aliasHistory(principalOf(req), projectId, req.params.name, req.query.alias) };
      },
    );
  };
}
