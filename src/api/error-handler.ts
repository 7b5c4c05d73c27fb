import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
  FST_ERR_MAX_PARAM_LENGTH: 'VALIDATION_FAILED',
};

/** Fastify's own wording where it does not say what to fix. */
const betterMessages: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content-type: send application/json (application/octet-stream for file uploads)',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is too long',
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
    const message = (fe.code ? betterMessages[fe.code] : undefined) ?? fe.message ?? mapped;
    return {
      status: errorRegistry[mapped].status,
      // Fastify's routing messages quote the whole URL, which may be kilobytes long.
      body: { error: { code: mapped, message: message.length > 300 ? `${message.slice(0, 300)}…` : message } },
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

/**
 * For Fastify's `frameworkErrors` option: errors raised while routing (a bad percent-encoding, a
 * path parameter over `maxParamLength`) never reach the error handler and would otherwise get
 * Fastify's own body shape.
 */
export function frameworkErrorHandler(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorResponse(err);
  void reply.status(status).send(body);
}

const clientErrors: Record<string, { code: ErrorCode; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', message: 'the request took too long to arrive' },
  HPE_HEADER_OVERFLOW: { code: 'HEADERS_TOO_LARGE', message: 'the request line and headers are too large' },
};

/**
 * For Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses (bytes that are not
 * allowed in a URL, oversized headers) never become requests, but still get the error shape.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, message } = (err.code ? clientErrors[err.code] : undefined) ?? {
    code: 'BAD_REQUEST' as const,
    message: 'malformed HTTP request: check the URL is percent-encoded ASCII and the headers are well formed',
  };
  const status = errorRegistry[code].status;
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** Load shedding, rate limits and shutdown say when to come back: `Retry-After` from the error's `retryAfterMs`. */
export function setRetryAfter(reply: FastifyReply, err: unknown): void {
  const retryAfterMs =
    err instanceof AppError ? (err.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs : undefined;
  if (typeof retryAfterMs === 'number') void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body, internal } = toErrorResponse(err);
    if (internal) req.log.error({ err }, 'unhandled error');
    setRetryAfter(reply, err);
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );
}
