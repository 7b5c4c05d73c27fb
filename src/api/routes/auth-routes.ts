import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAudit, roles } from '../../auth/index.ts';
import { AppError } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { principalOf } from '../auth-hook.ts';
import { epochMs, limitQuery, projectName, timeQuery } from './schemas.ts';

const createKeyBody = z
  .object({
    role: z.enum(roles),
    projects: z.array(z.string().min(1).max(128)).min(1).max(100).default(['default']),
    name: z.string().min(1).max(100).optional(),
    /** Absolute expiry (epoch ms) or a lifetime in seconds. */
    expiresAt: epochMs.min(1).optional(),
    expiresInSeconds: z
      .number()
      .int()
      .positive()
      .max(10 * 365 * 86400)
      .optional(),
  })
  .strict();

export function authRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/whoami', { schema: { tags: ['auth'], summary: 'The calling key' } }, async (req) => {
      const p = principalOf(req);
      return { id: p.id, name: p.name, role: p.role, projects: p.projects === '*' ? ['*'] : [...p.projects] };
    });

    app.post(
      '/projects',
      {
        schema: {
          tags: ['auth'],
          summary: 'Create a project',
          body: z.object({ name: projectName, description: z.string().max(2000).optional() }).strict(),
        },
      },
      async (req, reply) => reply.status(201).send(await ctx.auth.createProject(principalOf(req), req.body)),
    );
    app.get('/projects', { schema: { tags: ['auth'], summary: 'List projects' } }, async (req) => ({
      projects: await ctx.auth.listProjects(principalOf(req)),
    }));

    app.post(
      '/keys',
      { schema: { tags: ['auth'], summary: 'Create an API key (secret returned once)', body: createKeyBody } },
      async (req, reply) => {
        const b = req.body;
        if (b.expiresAt !== undefined && b.expiresInSeconds !== undefined) {
          throw new AppError('VALIDATION_FAILED', 'give expiresAt or expiresInSeconds, not both');
        }
        const expiresAt = b.expiresInSeconds !== undefined ? ctx.clock.now() + b.expiresInSeconds * 1000 : (b.expiresAt ?? null);
        const created = await ctx.auth.createKey(principalOf(req), {
          role: b.role,
          projects: b.projects,
          expiresAt,
          ...(b.name ? { name: b.name } : {}),
        });
        return reply.status(201).send({ ...created.record, key: created.key });
      },
    );
    app.get('/keys', { schema: { tags: ['auth'], summary: 'List API keys (never their secrets)' } }, async (req) => ({
      keys: await ctx.auth.listKeys(principalOf(req)),
    }));
    app.delete(
      '/keys/:id',
      { schema: { tags: ['auth'], summary: 'Revoke an API key', params: z.object({ id: z.string().max(64) }) } },
      async (req) => ctx.auth.revokeKey(principalOf(req), req.params.id),
    );

    app.get(
      '/audit',
      {
        schema: {
          tags: ['audit'],
          summary: 'Read the audit log, newest first',
          querystring: z.object({
            actor: z.string().max(64).optional(),
            resource: z.string().max(128).optional(),
            resourceType: z.string().max(64).optional(),
            action: z.string().max(64).optional(),
            since: timeQuery.optional(),
            until: timeQuery.optional(),
            limit: limitQuery,
            pageToken: z.string().max(512).optional(),
          }),
        },
      },
      async (req) => {
        const q = req.query;
        const page = await listAudit(
          ctx.auth.auditStore,
          principalOf(req),
          {
            ...(q.actor ? { actor: q.actor } : {}),
            ...(q.resource ? { resourceId: q.resource } : {}),
            ...(q.resourceType ? { resourceType: q.resourceType } : {}),
            ...(q.action ? { action: q.action } : {}),
            ...(q.since !== undefined ? { since: q.since } : {}),
            ...(q.until !== undefined ? { until: q.until } : {}),
          },
          q.limit ?? 100,
          q.pageToken,
        );
        return { events: page.items, nextPageToken: page.nextPageToken };
      },
    );
  };
}
