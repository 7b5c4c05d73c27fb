/**
 * The one error registry: every stable error code maps to an HTTP status and a CLI exit code.
 * Routes and the CLI translate through this table only, so a code means the same everywhere.
 */
export const errorRegistry = {
  BAD_REQUEST: { status: 400, exit: 2 },
  VALIDATION_FAILED: { status: 400, exit: 2 },
  MALFORMED_JSON: { status: 400, exit: 2 },
  INVALID_FILTER: { status: 400, exit: 2 },
  INVALID_PATH: { status: 400, exit: 2 },
  INVALID_PAGE_TOKEN: { status: 400, exit: 2 },
  INVALID_MODEL: { status: 400, exit: 2 },
  SIGNATURE_MISMATCH: { status: 400, exit: 2 },
  UNAUTHENTICATED: { status: 401, exit: 3 },
  FORBIDDEN: { status: 403, exit: 4 },
  NOT_FOUND: { status: 404, exit: 5 },
  ROUTE_NOT_FOUND: { status: 404, exit: 5 },
  METHOD_NOT_ALLOWED: { status: 405, exit: 2 },
  ALREADY_EXISTS: { status: 409, exit: 6 },
  PARAM_CONFLICT: { status: 409, exit: 6 },
  INVALID_STATE: { status: 409, exit: 6 },
  GATE_FAILED: { status: 409, exit: 10 },
  INVALID_POLICY: { status: 400, exit: 2 },
  INVALID_CONTRACT: { status: 400, exit: 2 },
  CONTRACT_FAILED: { status: 422, exit: 12 },
  /** The serving runtime could not load a model a deployment was to switch to; the old target keeps serving. */
  MODEL_LOAD_FAILED: { status: 422, exit: 2 },
  /** A pipeline run ended failed or cancelled (CLI only: the API reports it in the run). */
  PIPELINE_FAILED: { status: 409, exit: 13 },
  REQUEST_TIMEOUT: { status: 408, exit: 8 },
  /** The client disconnected before its answer (nginx's 499): its queued work was dropped; nobody reads this reply. */
  CLIENT_CLOSED: { status: 499, exit: 8 },
  PAYLOAD_TOO_LARGE: { status: 413, exit: 2 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: 2 },
  HEADERS_TOO_LARGE: { status: 431, exit: 2 },
  RATE_LIMITED: { status: 429, exit: 7 },
  INTERNAL: { status: 500, exit: 1 },
  /** The model ran and failed on this input (the runtime's message is the answer, unlike INTERNAL). */
  INFERENCE_FAILED: { status: 500, exit: 1 },
  NOT_IMPLEMENTED: { status: 501, exit: 2 },
  UNAVAILABLE: { status: 503, exit: 8 },
  /** Load shed: a bounded queue is full; details carry `retryAfterMs` (→ 503 + Retry-After). */
  OVERLOADED: { status: 503, exit: 8 },
  CONNECTION_FAILED: { status: 503, exit: 8 },
  CONFIG_INVALID: { status: 500, exit: 9 },
} as const satisfies Record<string, { status: number; exit: number }>;

export type ErrorCode = keyof typeof errorRegistry;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return errorRegistry[this.code].status;
  }

  get exitCode(): number {
    return errorRegistry[this.code].exit;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorRegistry, code);
}

export function exitCodeFor(code: string): number {
  return isErrorCode(code) ? errorRegistry[code].exit : errorRegistry.INTERNAL.exit;
}

export const notFound = (what: string, id: string): AppError =>
  new AppError('NOT_FOUND', `${what} '${id}' does not exist`, { resource: what, id });
