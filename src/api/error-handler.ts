import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode, errorRegistry } from '../core/index.ts';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

/** Maps any thrown error to `{ error: { code, message, details } }`. Unknown errors are 500 and logged, never echoed. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof AppError) {
    return {
      status: err.status,
      body: { error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } },
      internal: false,
    };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const details = err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message, ...v.params }));
    const where = err.validationContext ?? 'request';
    return {
      status: 400,
      body: {
        error: {
          code: 'VALIDATION_FAILED',
          message: `invalid ${where}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
          details,
        },
      },
      internal: false,
    };
  }
  const fe = err as Partial<FastifyError> & { type?: string; status?: number };
  const mapped = fe.code ? fastifyCodes[fe.code] : undefined;
  if (mapped) {
    return {
      status: errorRegistry[mapped].status,
      body: { error: { code: mapped, message: fe.message ?? mapped } },
      internal: false,
    };
  }
  // Errors raised by Node's body parsing (e.g. aborted uploads) carry a 4xx status of their own.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code: ErrorCode =
      fe.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : fe.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
    return { status: fe.statusCode, body: { error: { code, message: fe.message ?? code } }, internal: false };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal server error' } }, internal: true };
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body, internal } = toErrorResponse(err);
    if (internal) req.log.error({ err }, 'unhandled error');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );
}
