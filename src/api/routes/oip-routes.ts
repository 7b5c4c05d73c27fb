import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authorize } from '../../auth/index.ts';
import { AppError } from '../../core/index.ts';
import type { AppContext } from '../app-context.ts';
import { installAuthHook, principalOf } from '../auth-hook.ts';
import { setRetryAfter, toErrorResponse } from '../error-handler.ts';
import { cancelOnClose } from './client-gone.ts';
import { controlBody, indexBody, inferBody, modelParams, versionParams } from './oip-schemas.ts';
import { projectQuery } from './schemas.ts';

// The OIP has its own specification, so /v2 stays out of Keel's OpenAPI document (which describes /api/v1).
const hide = true;

/** Errors on /v2 take the protocol's shape, `{"error": "<message>"}`, with the status Keel's error registry gives the code. */
function installOipErrors(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body, internal } = toErrorResponse(err);
    if (internal) req.log.error({ err }, 'unhandled error');
    setRetryAfter(reply, err);
    return reply.status(status).send({ error: body.error.message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));
}

export const isOipUrl = (url: string): boolean => url === '/v2' || url.startsWith('/v2/') || url.startsWith('/v2?');

/** An infer URL, raw (routing may have failed on it): `/v2/models/{name}[/versions/{v}]/infer`. */
export const isOipInferUrl = (url: string): boolean => /^\/v2\/models\/[^?]*\/infer(\?|$)/.test(url);

/** Routing errors (a bad percent-encoding, an over-long name) never reach a plugin's error handler: the app calls this for /v2 URLs. */
export function oipFrameworkErrorHandler(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorResponse(err);
  void reply.status(status).send({ error: body.error.message });
}

/** The Open Inference Protocol v2 REST surface (KServe / Triton / MLServer), mounted at /v2. */
export function oipRoutes(ctx: AppContext, server: { version: string }): FastifyPluginAsyncZod {
  const oip = ctx.serving.oip;
  return async (app) => {
    installOipErrors(app);
    // Probes: open, like /healthz, and answered by status code as well as body.
    app.get('/health/live', { schema: { hide } }, async () => ({ live: oip.live() }));
    app.get('/health/ready', { schema: { hide } }, async (_req, reply) => {
      const ready = oip.ready();
      return reply.status(ready ? 200 : 503).send({ ready });
    });

    await app.register(async (api) => {
      installAuthHook(api, ctx);
      const r = api.withTypeProvider<import('fastify-type-provider-zod').ZodTypeProvider>();
      r.get('/', { schema: { hide } }, async (req) => {
        authorize(principalOf(req), 'serving:predict');
        return { name: 'keel', version: server.version, extensions: ['model_repository'] };
      });

      const metadata = { schema: { hide, querystring: projectQuery } } as const;
      r.get('/models/:name', { schema: { ...metadata.schema, params: modelParams } }, async (req) =>
        oip.modelMetadata(principalOf(req), { project: req.query.project, name: req.params.name }),
      );
      r.get('/models/:name/versions/:version', { schema: { ...metadata.schema, params: versionParams } }, async (req) =>
        oip.modelMetadata(principalOf(req), { project: req.query.project, ...req.params }),
      );

      const ready = async (reply: { status(code: number): { send(body: unknown): unknown } }, answer: { ready: boolean }) =>
        reply.status(answer.ready ? 200 : 503).send(answer);
      r.get('/models/:name/ready', { schema: { ...metadata.schema, params: modelParams } }, async (req, reply) =>
        ready(reply, await oip.modelReady(principalOf(req), { project: req.query.project, name: req.params.name })),
      );
      r.get(
        '/models/:name/versions/:version/ready',
        { schema: { ...metadata.schema, params: versionParams } },
        async (req, reply) => ready(reply, await oip.modelReady(principalOf(req), { project: req.query.project, ...req.params })),
      );

      const inferOptions = {
        schema: { hide, querystring: projectQuery, body: inferBody },
        // Requests refused before the service sees them (authentication, malformed JSON, a body the
        // schema rejects) count in keel_oip_requests_total too, under the code they are answered with.
        onError: async (_req: FastifyRequest, _reply: FastifyReply, error: unknown) => {
          if (!oip.hasCounted(error)) oip.countRefused(toErrorResponse(error).body.error.code);
        },
        // Triton's binary tensor extension announces itself with this header; Keel speaks JSON tensors only.
        // Callback style: an async hook costs every infer request a promise and a microtask.
        preValidation: (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
          if (req.headers['inference-header-content-length'] !== undefined) {
            done(new AppError('NOT_IMPLEMENTED', 'the binary tensor data extension is not supported; send JSON tensors'));
            return;
          }
          done();
        },
      };
      r.post(
        '/models/:name/infer',
        { ...inferOptions, schema: { ...inferOptions.schema, params: modelParams } },
        async (req, reply) =>
          oip.infer(principalOf(req), { project: req.query.project, name: req.params.name }, req.body, cancelOnClose(reply.raw)),
      );
      r.post(
        '/models/:name/versions/:version/infer',
        { ...inferOptions, schema: { ...inferOptions.schema, params: versionParams } },
        async (req, reply) =>
          oip.infer(principalOf(req), { project: req.query.project, ...req.params }, req.body, cancelOnClose(reply.raw)),
      );

      // Model repository extension (Triton / MLServer).
      r.post('/repository/index', { schema: { hide, querystring: projectQuery, body: indexBody } }, async (req) =>
        oip.repositoryIndex(principalOf(req), req.query.project, req.body?.ready === true),
      );
      r.post(
        '/repository/models/:name/load',
        { schema: { hide, querystring: projectQuery, params: modelParams, body: controlBody } },
        async (req) => {
          const loaded = await oip.load(principalOf(req), { project: req.query.project, name: req.params.name });
          return { ...loaded, load: true };
        },
      );
      r.post(
        '/repository/models/:name/unload',
        { schema: { hide, querystring: projectQuery, params: modelParams, body: controlBody } },
        async (req) => ({
          ...(await oip.unload(principalOf(req), { project: req.query.project, name: req.params.name })),
          unload: true,
        }),
      );
    });
  };
}
