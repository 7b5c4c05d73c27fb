import { exitCodeFor } from '../core/index.ts';

/** An error answered by the server (or a failure to reach it), with the server's stable code. */
export class KeelApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** The response's Retry-After header in ms (delta-seconds or an HTTP date), when it had one: proxies and load balancers send it too. */
    readonly retryAfterHeaderMs?: number,
  ) {
    super(message);
    this.name = 'KeelApiError';
  }

  /** The CLI exit code the error registry assigns to this code. */
  get exitCode(): number {
    return exitCodeFor(this.code);
  }
}

export interface HttpOptions {
  url: string;
  apiKey?: string | undefined;
  /** Per-request timeout; uploads of big files may need more. */
  timeoutMs?: number;
}

export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

function buildUrl(base: string, path: string, query?: Query): string {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item);
    else url.searchParams.set(k, String(v));
  }
  return url.toString();
}

/** Thin fetch wrapper: JSON in, JSON out, server errors raised as KeelApiError. */
export class HttpClient {
  constructor(private readonly opts: HttpOptions) {}

  get baseUrl(): string {
    return this.opts.url;
  }

  async request(
    method: string,
    path: string,
    init: {
      query?: Query;
      json?: unknown;
      body?: BodyInit | AsyncIterable<Uint8Array>;
      headers?: Record<string, string>;
      timeoutMs?: number;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let body: BodyInit | AsyncIterable<Uint8Array> | undefined = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const timeoutMs = init.timeoutMs ?? this.opts.timeoutMs ?? 60_000;
    let res: Response;
    try {
      res = await fetch(buildUrl(this.opts.url, path, init.query), {
        method,
        headers,
        body: body as BodyInit,
        signal: AbortSignal.timeout(timeoutMs),
        // Streaming request bodies need half-duplex in Node's fetch.
        ...(body && typeof body === 'object' && Symbol.asyncIterator in body ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (e) {
      // undici puts the reason (ECONNREFUSED, "bad port", a timeout) on `cause`; say it so it can be fixed.
      const inner = (e as { cause?: { code?: string; message?: string } }).cause;
      const cause = inner?.code ?? inner?.message ?? (e as Error).name;
      throw new KeelApiError(0, 'CONNECTION_FAILED', `cannot reach Keel at ${this.opts.url} (${cause})`);
    }
    if (res.ok) return res;
    let payload: { error?: { code?: string; message?: string; details?: unknown } } = {};
    try {
      payload = (await res.json()) as typeof payload;
    } catch {
      // Not JSON: keep the status as the message.
    }
    throw new KeelApiError(
      res.status,
      payload.error?.code ?? (res.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'),
      payload.error?.message ?? `HTTP ${res.status}`,
      payload.error?.details,
      parseRetryAfter(res.headers.get('retry-after'), Date.now()),
    );
  }

  async json<T>(method: string, path: string, init: Parameters<HttpClient['request']>[2] = {}): Promise<T> {
    const res = await this.request(method, path, init);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}

/** RFC 9110 §10.2.3: Retry-After is delay-seconds or an HTTP-date; anything else is ignored. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (!/[a-z]/i.test(text) || Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
