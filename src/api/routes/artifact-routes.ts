import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf } from '../auth-hook.ts';

const artifactParams = z.object({ id: z.string().max(64), '*': z.string().max(2000) });

/** Artifact bodies stream straight into the blob store; they are never buffered whole. */
export function artifactRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.put(
      '/runs/:id/artifacts/*',
      {
        schema: { tags: ['artifacts'], summary: 'Upload an artifact (application/octet-stream body)', params: artifactParams },
        bodyLimit: ctx.config.server.artifactLimitBytes,
      },
      async (req, reply) => {
        const body = req.body as Readable | undefined;
        if (!body || typeof (body as Readable).pipe !== 'function') {
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the artifact as application/octet-stream');
        }
        const artifact = await ctx.tracking.uploadArtifact(principalOf(req), req.params.id, req.params['*'], body);
        return reply.status(201).send(artifact);
      },
    );
    app.get(
      '/runs/:id/artifacts/*',
      { schema: { tags: ['artifacts'], summary: 'Download an artifact', params: artifactParams } },
      async (req, reply) => {
        const { artifact, body } = await ctx.tracking.getArtifact(principalOf(req), req.params.id, req.params['*']);
        reply.header('content-type', 'application/octet-stream');
        reply.header('content-length', String(artifact.size));
        reply.header('x-keel-digest', artifact.digest);
        return reply.send(body);
      },
    );
    app.get(
      '/runs/:id/artifacts',
      {
        schema: {
          tags: ['artifacts'],
          summary: 'List artifacts under a path prefix',
          params: z.object({ id: z.string().max(64) }),
          querystring: z.object({ path: z.string().max(1000).optional() }),
        },
      },
      async (req) => ({ artifacts: await ctx.tracking.listArtifacts(principalOf(req), req.params.id, req.query.path ?? '') }),
    );
  };
}
