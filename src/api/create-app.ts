import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError } from '../core/index.ts';
import type { AppContext } from './app-context.ts';
import { installAuthHook } from './auth-hook.ts';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling, toErrorResponse } from './error-handler.ts';
import { keelValidatorCompiler } from './fast-validation.ts';
import { registerFeatureMetrics } from './feature-metrics.ts';
import { installInputGuards, installJsonParser } from './input-guards.ts';
import { withLazyChildren } from './lazy-child-logger.ts';
import { artifactRoutes } from './routes/artifact-routes.ts';
import { authRoutes } from './routes/auth-routes.ts';
import { dataContractRoutes } from './routes/data-contract-routes.ts';
import { datasetRoutes } from './routes/dataset-routes.ts';
import { deploymentRoutes } from './routes/deployment-routes.ts';
import { featureRoutes } from './routes/feature-routes.ts';
import { inferenceLogRoutes } from './routes/inference-log-routes.ts';
import { isOipInferUrl, isOipUrl, oipFrameworkErrorHandler, oipRoutes } from './routes/oip-routes.ts';
import { pipelineRoutes } from './routes/pipeline-routes.ts';
import { predictRoutes } from './routes/predict-routes.ts';
import { promotionRoutes } from './routes/promotion-routes.ts';
import { registryRoutes } from './routes/registry-routes.ts';
import { systemRoutes } from './routes/system-routes.ts';
import { trackingRoutes } from './routes/tracking-routes.ts';

export const apiVersion = '0.1.0';

/** Builds the HTTP app: control plane under /api/v1, probes and metrics at the root. */
export async function createApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: withLazyChildren(ctx.logger as FastifyBaseLogger),
    bodyLimit: ctx.config.server.bodyLimitBytes,
    // Per-request lines would dominate the log; latency lives in the Prometheus histogram instead.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    // Refused below instead, with Keel's error body (stable code) and Retry-After.
    return503OnClosing: false,
    forceCloseConnections: false,
    // Above every name and key the schemas allow (≤ 250 chars, ×3 when percent-encoded); the default 100 refused valid names.
    routerOptions: { maxParamLength: 1024 },
    frameworkErrors: (err, req, reply) => {
      if (!isOipUrl(req.url)) return frameworkErrorHandler(err, req, reply);
      // Refused before routing (a bad percent-encoding), so the infer route's own hook never sees it.
      if (req.method === 'POST' && isOipInferUrl(req.url)) ctx.serving.oip.countRefused(toErrorResponse(err).body.error.code);
      oipFrameworkErrorHandler(err, req, reply);
    },
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(keelValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  registerFeatureMetrics(ctx);

  // The API speaks JSON; without this, text/plain bodies reach validation and fail as 400 instead of 415.
  app.removeContentTypeParser('text/plain');
  installJsonParser(app);
  // Binary bodies (artifacts, model files) arrive as a stream for the route to pipe onward.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  installInputGuards(app);

  // Requests that still reach a closing server (a keep-alive connection, pipelining) are answered
  // 503 UNAVAILABLE with Retry-After and the connection closed, as a load balancer expects.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_req, reply, done) => {
    if (!closing) return done();
    void reply.header('connection', 'close');
    done(new AppError('UNAVAILABLE', 'the server is shutting down; retry on another instance', { retryAfterMs: 1_000 }));
  });

  // Callback-style hooks on every request: an async hook costs a promise and a microtask each.
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.observeHttp(route, req.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Keel API', version: apiVersion, description: 'Keel control plane: auth, audit, tracking, registry.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  await app.register(async (root) => systemRoutes(root, ctx));
  await app.register(
    async (api) => {
      installAuthHook(api, ctx);
      await api.register(authRoutes(ctx));
      await api.register(trackingRoutes(ctx));
      await api.register(artifactRoutes(ctx));
      await api.register(registryRoutes(ctx));
      await api.register(promotionRoutes(ctx));
      await api.register(datasetRoutes(ctx));
      await api.register(dataContractRoutes(ctx));
      await api.register(featureRoutes(ctx));
      await api.register(pipelineRoutes(ctx));
      await api.register(deploymentRoutes(ctx));
      await api.register(inferenceLogRoutes(ctx));
    },
    { prefix: '/api/v1' },
  );
  await app.register(oipRoutes(ctx, { version: apiVersion }), { prefix: '/v2' });
  await app.register(predictRoutes(ctx), { prefix: '/v1' });
  return app as unknown as FastifyInstance;
}
