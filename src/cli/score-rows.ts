import { setTimeout as sleepFor } from 'node:timers/promises';
import { KeelApiError, type PredictionView } from '../client/index.ts';

/** One input row on its way to the predict API, with its 0-based row number in the input file. */
export interface PendingRow {
  row: number;
  record: Record<string, unknown>;
}

/** What became of one row: scored (prediction, probability) or failed (error). */
export type RowOutcome =
  | { row: number; prediction: unknown; probability: unknown; degraded: boolean }
  | { row: number; error: { code: string; message: string } };

export interface RetryPolicy {
  /** Retries after the first attempt, per request. */
  retries: number;
  /** The first backoff ceiling; it doubles per retry up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * About 30 s of backoff ceilings in all (0.5, 1, 2, 4, 8, 16 s), on top of any Retry-After: long
 * enough to ride out load shedding and a gateway restart, short enough that a server that is
 * really gone fails the job within a minute or so.
 */
export const defaultRetryPolicy: RetryPolicy = { retries: 6, baseDelayMs: 500, maxDelayMs: 20_000 };

export interface RowScorerOptions {
  predict: (records: Record<string, unknown>[]) => Promise<PredictionView>;
  /** Called once per row, in no particular order. */
  onOutcome: (outcome: RowOutcome) => void;
  /** Checked before every request: once true, rows not yet sent are left unscored. */
  stopped?: () => boolean;
  /** Called before each retry wait, for the summary's count. */
  onRetry?: (e: KeelApiError, attempt: number, delayMs: number) => void;
  policy?: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * Failures the rows did not cause and that a later attempt may not meet: connection failures
 * and client timeouts (status 0), 408, 429 and the 5xx of an overloaded, restarting or proxied
 * gateway. INTERNAL (500) is not among them: it is a server bug, which retrying only repeats.
 */
export function isTransient(e: KeelApiError): boolean {
  return [0, 408, 429, 499, 502, 503, 504].includes(e.status);
}

/**
 * Failures a row can cause: the predict API's 400s (validation, a transform throwing on the
 * record's fields), a request too large (a huge row), and the model failing on its input. Any
 * other status (401, 403, 404, 409, 422, 500, 501) is about the job, not its rows, and stops it.
 */
export function isRowLevel(e: KeelApiError): boolean {
  return e.status === 400 || e.status === 413 || e.code === 'INFERENCE_FAILED';
}

/**
 * The server's own wait: the error body's `retryAfterMs` (what Keel also sends as the Retry-After
 * header, in milliseconds rather than rounded up to seconds), else the Retry-After header itself
 * (a proxy or load balancer in front of Keel answers 503s of its own).
 */
function retryAfterMs(e: KeelApiError): number {
  const ms = (e.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0) return ms;
  return e.retryAfterHeaderMs ?? 0;
}

/**
 * Full-jitter exponential backoff (uniform in [0, min(max, base·2^attempt)]) so that requests
 * refused together do not come back together; never earlier than the server asked, and then
 * spread over up to one base delay past it for the same reason.
 */
export function backoffMs(e: KeelApiError, attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = random() * ceiling;
  const floor = retryAfterMs(e);
  return floor > 0 ? Math.max(jittered, floor + random() * policy.baseDelayMs) : jittered;
}

/**
 * The rows of a request a 400 names, by position in the request, with what is wrong with each:
 * the predict API's `details.problems` (`{record, field, message}`, every problem, not only the
 * 20 in the message) or a schema error's `details[].path` (`/records/3/...`). Empty when the
 * error does not say which rows it is about.
 */
export function namedRows(e: KeelApiError, count: number): Map<number, string> {
  const named = new Map<number, string[]>();
  const add = (index: unknown, text: string) => {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) return;
    const list = named.get(index) ?? [];
    list.push(text);
    named.set(index, list);
  };
  const details = e.details as
    | { problems?: { record?: unknown; field?: unknown; message?: unknown }[] }
    | { path?: unknown; message?: unknown }[]
    | undefined;
  if (Array.isArray(details)) {
    for (const d of details) {
      const m = typeof d?.path === 'string' ? /^\/records\/(\d+)(?:\/(.*))?$/.exec(d.path) : null;
      if (m) add(Number(m[1]), [m[2], d.message].filter((s) => typeof s === 'string' && s !== '').join(' '));
    }
  } else if (details && Array.isArray(details.problems)) {
    for (const p of details.problems) add(p?.record, [p?.field, p?.message].filter((s) => typeof s === 'string').join(' '));
  }
  return new Map([...named].map(([i, texts]) => [i, texts.join('; ')]));
}

/** A row's message: the server speaks of `records[k]` (a position in one request); users know file rows. */
const inFileTerms = (message: string, row: number) => message.replace(/records\[\d+\]\.?/g, `row ${row} `).trim();

/**
 * Scores rows through the predict API so that no single row and no passing failure fails the
 * batch: transient failures are retried (backoff, jitter, Retry-After); the rows a 400 names get
 * their error and the others are sent again; a row-level failure that names no row is bisected
 * until each bad row is alone. Rejects only with a failure about the job (auth, a missing
 * deployment, a server error) or with a transient one that outlasted its retries.
 */
export async function scoreRows(rows: PendingRow[], opts: RowScorerOptions): Promise<void> {
  if (rows.length === 0 || opts.stopped?.()) return;
  let res: PredictionView;
  try {
    res = await withRetries(rows, opts);
  } catch (e) {
    if (!(e instanceof KeelApiError) || !isRowLevel(e)) throw e;
    const named = namedRows(e, rows.length);
    if (named.size > 0) {
      for (const [i, message] of named) {
        opts.onOutcome({ row: (rows[i] as PendingRow).row, error: { code: e.code, message } });
      }
      // The others may yet fail at a later stage (features before model inputs): the loop ends, each round removes a row.
      return scoreRows(
        rows.filter((_, i) => !named.has(i)),
        opts,
      );
    }
    if (rows.length === 1) {
      const only = rows[0] as PendingRow;
      opts.onOutcome({ row: only.row, error: { code: e.code, message: inFileTerms(e.message, only.row) } });
      return;
    }
    const half = Math.ceil(rows.length / 2);
    await scoreRows(rows.slice(0, half), opts);
    return scoreRows(rows.slice(half), opts);
  }
  rows.forEach(({ row }, k) => {
    opts.onOutcome({
      row,
      prediction: res.predictions[k] ?? null,
      probability: res.probabilities?.[k] ?? null,
      degraded: res.degraded,
    });
  });
}

async function withRetries(rows: PendingRow[], opts: RowScorerOptions): Promise<PredictionView> {
  const policy = opts.policy ?? defaultRetryPolicy;
  const sleep = opts.sleep ?? ((ms: number) => sleepFor(ms));
  const random = opts.random ?? Math.random;
  const records = rows.map((r) => r.record);
  for (let attempt = 0; ; attempt++) {
    try {
      return await opts.predict(records);
    } catch (e) {
      if (!(e instanceof KeelApiError) || !isTransient(e)) throw e;
      const first = (rows[0] as PendingRow).row;
      const last = (rows[rows.length - 1] as PendingRow).row;
      if (attempt >= policy.retries || opts.stopped?.()) {
        throw new KeelApiError(
          e.status,
          e.code,
          `rows ${first}-${last}: ${e.message} (gave up after ${attempt + 1} attempts)`,
          e.details,
        );
      }
      const delay = backoffMs(e, attempt, policy, random);
      opts.onRetry?.(e, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

/** DuckDB types an output column can take, from the JSON values the model returned. */
type Scalar = 'BOOLEAN' | 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'JSON';

/**
 * The narrowest DuckDB type that holds every value seen in an output column, so a string label
 * stays VARCHAR and a probability vector a LIST: numbers are BIGINT while all are integers, then
 * DOUBLE; arrays of one scalar kind are LISTs of it; anything else (objects, nested or mixed
 * arrays, a column mixing kinds) is JSON, which DuckDB's json functions still query. A column
 * with no values at all is DOUBLE, the type of a numeric model's missing answer.
 */
export class ColumnType {
  private scalar: Scalar | null = null;
  private list: boolean | null = null;

  observe(value: unknown): void {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      let inner: Scalar | null = null;
      for (const v of value) {
        if (v === null) continue;
        inner = merge(inner, Array.isArray(v) ? 'JSON' : scalarOf(v));
      }
      this.add(true, inner);
    } else {
      this.add(false, scalarOf(value));
    }
  }

  get sql(): string {
    if (this.scalar === 'JSON') return 'JSON';
    const base = this.scalar ?? 'DOUBLE';
    return this.list ? `${base}[]` : base;
  }

  private add(list: boolean, scalar: Scalar | null): void {
    if (this.list !== null && this.list !== list) {
      this.scalar = 'JSON';
      return;
    }
    this.list = list;
    this.scalar = merge(this.scalar, scalar);
  }
}

function scalarOf(v: unknown): Scalar {
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'BIGINT' : 'DOUBLE';
  if (typeof v === 'string') return 'VARCHAR';
  return 'JSON';
}

function merge(a: Scalar | null, b: Scalar | null): Scalar | null {
  if (a === null || a === b) return b ?? a;
  if (b === null) return a;
  const numbers = new Set<Scalar>(['BIGINT', 'DOUBLE']);
  return numbers.has(a) && numbers.has(b) ? 'DOUBLE' : 'JSON';
}
