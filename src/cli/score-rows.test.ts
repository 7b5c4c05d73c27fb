import { describe, expect, it } from 'vitest';
import { KeelApiError, type PredictionView, parseRetryAfter } from '../client/index.ts';
import { backoffMs, ColumnType, defaultRetryPolicy, type PendingRow, type RowOutcome, scoreRows } from './score-rows.ts';

type Rec = Record<string, unknown>;

/** Rows `first…first+count-1`, each record carrying its id so answers can be checked against rows. */
const rowsFrom = (first: number, count: number, bad: number[] = []): PendingRow[] =>
  Array.from({ length: count }, (_, k) => ({
    row: first + k,
    record: { id: first + k, ...(bad.includes(first + k) ? { bad: true } : {}) },
  }));

const answer = (records: Rec[]): PredictionView => ({
  request_id: 'r',
  model: { name: 'm', version: 1 },
  predictions: records.map((r) => r.id),
  probabilities: records.map((r) => (r.id as number) / 10_000),
  feature_status: [],
  degraded: false,
});

function harness(predict: (records: Rec[], call: number) => PredictionView) {
  const outcomes: RowOutcome[] = [];
  const sleeps: number[] = [];
  const sent: Rec[][] = [];
  const opts = {
    predict: async (records: Rec[]) => {
      sent.push(records);
      return predict(records, sent.length);
    },
    onOutcome: (o: RowOutcome) => outcomes.push(o),
    sleep: async (ms: number) => void sleeps.push(ms),
    random: () => 0.5,
  };
  const byRow = () => new Map(outcomes.map((o) => [o.row, o]));
  return { opts, outcomes, sleeps, sent, byRow };
}

describe('scoreRows', () => {
  it('retries 503 OVERLOADED, 429 and timeouts, never sooner than the server asked', async () => {
    const failures = [
      new KeelApiError(503, 'OVERLOADED', 'queue full', { retryAfterMs: 1500 }),
      new KeelApiError(429, 'RATE_LIMITED', 'too fast', { retryAfterMs: 800 }),
      new KeelApiError(0, 'CONNECTION_FAILED', 'cannot reach Keel (TimeoutError)'),
      new KeelApiError(0, 'CONNECTION_FAILED', 'cannot reach Keel (ECONNRESET)'),
    ];
    const h = harness((records, call) => {
      const e = failures[call - 1];
      if (e) throw e;
      return answer(records);
    });
    await scoreRows(rowsFrom(0, 5), h.opts);
    expect(h.sent).toHaveLength(5);
    expect(h.outcomes).toHaveLength(5);
    expect(h.sleeps[0]).toBeGreaterThanOrEqual(1500);
    expect(h.sleeps[1]).toBeGreaterThanOrEqual(800);
    expect(h.byRow().get(4)).toMatchObject({ prediction: 4, probability: 0.0004 });
  });

  it('gives up after the policy’s retries with the failure’s own code, naming the file rows', async () => {
    const h = harness(() => {
      throw new KeelApiError(503, 'UNAVAILABLE', 'model is loading');
    });
    const failed = scoreRows(rowsFrom(500, 500), h.opts);
    await expect(failed).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/^rows 500-999: .*gave up after 7 attempts/),
    });
    expect(h.sent).toHaveLength(defaultRetryPolicy.retries + 1);
    expect(h.outcomes).toEqual([]);
  });

  it('stops at once on a failure about the job (404, 401, 500), without retrying', async () => {
    for (const e of [
      new KeelApiError(404, 'NOT_FOUND', "deployment 'x' does not exist"),
      new KeelApiError(401, 'UNAUTHENTICATED', 'bad key'),
      new KeelApiError(500, 'INTERNAL', 'internal server error'),
    ]) {
      const h = harness(() => {
        throw e;
      });
      await expect(scoreRows(rowsFrom(0, 10), h.opts)).rejects.toBe(e);
      expect(h.sent).toHaveLength(1);
    }
  });

  it('marks the rows a 400 names, by file row, and scores the others of the request', async () => {
    const h = harness((records) => {
      const bad = records.flatMap((r, i) => (r.bad ? [{ record: i, field: 'x', message: 'must be 2 values, got 3' }] : []));
      if (bad.length) throw new KeelApiError(400, 'VALIDATION_FAILED', `records[${bad[0]?.record}].x …`, { problems: bad });
      return answer(records);
    });
    await scoreRows(rowsFrom(2000, 500, [2001, 2452]), h.opts);
    expect(h.sent).toHaveLength(2);
    const byRow = h.byRow();
    expect(byRow.size).toBe(500);
    expect(byRow.get(2452)).toEqual({ row: 2452, error: { code: 'VALIDATION_FAILED', message: 'x must be 2 values, got 3' } });
    expect(byRow.get(2001)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(byRow.get(2453)).toMatchObject({ prediction: 2453 });
    expect(byRow.get(2000)).toMatchObject({ prediction: 2000 });
  });

  it('keeps going when a resent request reveals a problem of a later stage', async () => {
    // Join keys are checked before model inputs: row 3's problem shows only once row 1 is out.
    const h = harness((records) => {
      const i = records.findIndex((r) => r.id === 1);
      if (i >= 0)
        throw new KeelApiError(400, 'VALIDATION_FAILED', 'key', {
          problems: [{ record: i, field: 'origin', message: 'must be a string' }],
        });
      const j = records.findIndex((r) => r.id === 3);
      if (j >= 0)
        throw new KeelApiError(400, 'VALIDATION_FAILED', 'input', {
          problems: [{ record: j, field: 'x', message: 'is missing' }],
        });
      return answer(records);
    });
    await scoreRows(rowsFrom(0, 6), h.opts);
    const byRow = h.byRow();
    expect(byRow.get(1)).toMatchObject({ error: { message: 'origin must be a string' } });
    expect(byRow.get(3)).toMatchObject({ error: { message: 'x is missing' } });
    expect([0, 2, 4, 5].map((r) => (byRow.get(r) as { prediction?: unknown }).prediction)).toEqual([0, 2, 4, 5]);
  });

  it('attributes schema errors by their path (/records/3/...)', async () => {
    const h = harness((records) => {
      const i = records.findIndex((r) => r.bad);
      if (i >= 0)
        throw new KeelApiError(400, 'VALIDATION_FAILED', 'invalid body', [{ path: `/records/${i}`, message: 'too long a key' }]);
      return answer(records);
    });
    await scoreRows(rowsFrom(10, 5, [13]), h.opts);
    expect(h.byRow().get(13)).toEqual({ row: 13, error: { code: 'VALIDATION_FAILED', message: 'too long a key' } });
    expect(h.outcomes).toHaveLength(5);
  });

  it('bisects a row-level failure that names no row down to the bad rows alone', async () => {
    const h = harness((records) => {
      if (records.some((r) => r.bad))
        throw new KeelApiError(400, 'VALIDATION_FAILED', 'a request-time transform failed on records[0]');
      return answer(records);
    });
    await scoreRows(rowsFrom(1000, 500, [1137, 1400]), h.opts);
    const byRow = h.byRow();
    expect(byRow.size).toBe(500);
    expect(byRow.get(1137)).toEqual({
      row: 1137,
      error: { code: 'VALIDATION_FAILED', message: 'a request-time transform failed on row 1137' },
    });
    expect(byRow.get(1400)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(h.outcomes.filter((o) => 'error' in o)).toHaveLength(2);
    // About 2·log2(500) requests per bad row, not one per row.
    expect(h.sent.length).toBeLessThan(40);
  });

  it('treats the model failing on its input (INFERENCE_FAILED) and a request too large as the rows’ doing', async () => {
    const h = harness((records) => {
      if (records.length > 2) throw new KeelApiError(413, 'PAYLOAD_TOO_LARGE', 'body too large');
      if (records.some((r) => r.bad)) throw new KeelApiError(500, 'INFERENCE_FAILED', 'Non-zero status code');
      return answer(records);
    });
    await scoreRows(rowsFrom(0, 8, [5]), h.opts);
    expect(h.byRow().get(5)).toMatchObject({ error: { code: 'INFERENCE_FAILED' } });
    expect(h.outcomes.filter((o) => 'prediction' in o)).toHaveLength(7);
  });

  it('sends nothing more once stopped', async () => {
    const h = harness((records) => answer(records));
    await scoreRows(rowsFrom(0, 5), { ...h.opts, stopped: () => true });
    expect(h.sent).toEqual([]);
  });
});

describe('backoffMs', () => {
  const policy = { retries: 6, baseDelayMs: 500, maxDelayMs: 20_000 };
  const shed = new KeelApiError(503, 'OVERLOADED', 'full', { retryAfterMs: 3000 });
  const reset = new KeelApiError(0, 'CONNECTION_FAILED', 'reset');

  it('is jittered under an exponential ceiling, capped', () => {
    expect(backoffMs(reset, 0, policy, () => 1)).toBe(500);
    expect(backoffMs(reset, 3, policy, () => 1)).toBe(4000);
    expect(backoffMs(reset, 3, policy, () => 0.25)).toBe(1000);
    expect(backoffMs(reset, 10, policy, () => 1)).toBe(20_000);
  });

  it('honours the server’s Retry-After as a floor, spread past it', () => {
    expect(backoffMs(shed, 0, policy, () => 0)).toBe(3000);
    expect(backoffMs(shed, 0, policy, () => 1)).toBe(3500);
    expect(backoffMs(shed, 6, policy, () => 1)).toBe(20_000);
  });

  it('honours a Retry-After header from a proxy that sent no Keel error body', () => {
    const proxied = new KeelApiError(503, 'INTERNAL', 'HTTP 503', undefined, parseRetryAfter('7', 0));
    expect(backoffMs(proxied, 0, policy, () => 0)).toBe(7000);
    const dated = new KeelApiError(
      503,
      'INTERNAL',
      'HTTP 503',
      undefined,
      parseRetryAfter('Thu, 01 Jan 1970 00:00:04 GMT', 1000),
    );
    expect(backoffMs(dated, 0, policy, () => 0)).toBe(3000);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and ignores anything else', () => {
    expect(parseRetryAfter('0', 0)).toBe(0);
    expect(parseRetryAfter(' 120 ', 0)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:01:00 GMT', 50_000)).toBe(10_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:01:00 GMT', 90_000)).toBe(0);
    for (const bad of [null, '', '-1', '1.5', 'soon', '12345678901']) expect(parseRetryAfter(bad, 0)).toBeUndefined();
  });
});

describe('ColumnType', () => {
  const typeOf = (...values: unknown[]) => {
    const t = new ColumnType();
    for (const v of values) t.observe(v);
    return t.sql;
  };

  it('keeps numbers numeric, strings VARCHAR and vectors LISTs', () => {
    expect(typeOf(1, 0, null)).toBe('BIGINT');
    expect(typeOf(1, 0.5)).toBe('DOUBLE');
    expect(typeOf('cat', null, 'dog')).toBe('VARCHAR');
    expect(typeOf(true, false)).toBe('BOOLEAN');
    expect(typeOf([0.1, 0.9], [1, 0], null, [])).toBe('DOUBLE[]');
    expect(typeOf(['a', 'b'])).toBe('VARCHAR[]');
  });

  it('is JSON when the values do not share a type, and DOUBLE when there are none', () => {
    expect(typeOf(1, 'a')).toBe('JSON');
    expect(typeOf([1], 2)).toBe('JSON');
    expect(typeOf([[1, 2]])).toBe('JSON');
    expect(typeOf({ a: 1 })).toBe('JSON');
    expect(typeOf(null, null)).toBe('DOUBLE');
  });
});
