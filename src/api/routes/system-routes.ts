import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.ts';

/** Unauthenticated probes and metrics, for orchestrators and Prometheus. */
export async function systemRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const checks: Record<string, boolean> = {};
    await Promise.all(
      Object.entries(ctx.readiness).map(async ([name, check]) => {
        checks[name] = await check().catch(() => false);
      }),
    );
    const ready = Object.values(checks).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
