import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { AppError } from '../../core/index.ts';
import {
  type FeatureStatus,
  type FeatureStoreService,
  joinKeyProblem,
  type OnlineFeatures,
  type ReadPlan,
  requestTimeOutputs,
  storedOutputs,
} from '../../features/index.ts';
import type { FieldProblem } from './model-inputs.ts';

export type ServedStatus = FeatureStatus | 'LAST_KNOWN' | 'DEFAULT';
type Value = number | string | boolean | null;

export interface FetchedFeatures {
  /** Per record: output name → value (view features, then transform outputs). */
  values: Record<string, Value>[];
  statuses: Record<string, ServedStatus>[];
  /** Why values did not come from the store, when they did not. */
  degraded: 'store_unavailable' | null;
  /**
   * Records whose join key is unusable, one problem per record and key. Such a record is not
   * read: its values and statuses are empty, and the caller is to refuse it (with whatever else
   * is wrong with the request, so one 400 lists every problem).
   */
  keyProblems: readonly FieldProblem[];
}

const noProblems: readonly FieldProblem[] = Object.freeze([]);

export interface FeatureFetcherOptions {
  timeoutMs: number;
  /** Consecutive failures that open the breaker, and how long it stays open before one trial call. */
  failureThreshold: number;
  halfOpenAfterMs: number;
  /** Entities whose last good values are kept for degraded answers. */
  lastKnownEntries: number;
}

interface ReadGroup {
  records: Record<string, unknown>[];
  waiters: {
    /** Where this caller's records start in the group's. */
    from: number;
    records: Record<string, unknown>[];
    defaults: Record<string, Value>;
    resolve: (f: FetchedFeatures) => void;
    reject: (e: unknown) => void;
  }[];
}

/**
 * Adds the plan's request-time transform outputs to fetched features, computed from the stored
 * values and the records' own fields (status PRESENT).
 */
function withTransforms(plan: ReadPlan, records: Record<string, unknown>[], fetched: FetchedFeatures): void {
  const { values, statuses } = fetched;
  const stored = new Map<string, unknown[]>(storedOutputs(plan).map((f) => [f, values.map((v) => v[f])]));
  for (const [name, col] of requestTimeOutputs(plan, stored, records)) {
    col.forEach((value, i) => {
      (values[i] as Record<string, Value>)[name] = (value ?? null) as Value;
      (statuses[i] as Record<string, ServedStatus>)[name] = 'PRESENT';
    });
  }
}

/** A transform that throws on a request's fields is that request's problem: 400, naming the cause. */
function transformError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  return new AppError(
    'VALIDATION_FAILED',
    `a request-time transform failed on this request: ${(e as Error)?.message ?? String(e)}`.slice(0, 500),
  );
}

/** The key under which an entity's last good values are remembered. */
function entityOf(plan: ReadPlan, r: Record<string, unknown>): string {
  return `${plan.service}\u0000${plan.joinKeys.map((k) => String(r[k])).join('\u0000')}`;
}

/**
 * Every record's unusable join key, per view (one problem per record and key). Returns the
 * shared empty list when all are usable: this runs on every request, and nothing is allocated then.
 */
function joinKeyProblems(plan: ReadPlan, records: Record<string, unknown>[]): readonly FieldProblem[] {
  let problems: FieldProblem[] | null = null;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as Record<string, unknown>;
    const first = problems?.length ?? 0;
    for (const { view } of plan.views) {
      const p = joinKeyProblem(r, view);
      if (!p) continue;
      problems ??= [];
      // Views sharing a key would report it once each; the record's problem is listed once.
      let seen = false;
      for (let k = first; k < problems.length; k++) if ((problems[k] as FieldProblem).field === p.key) seen = true;
      if (!seen) problems.push({ record: i, field: p.key, message: `${p.message} (a join key of feature view '${view.name}')` });
    }
  }
  return problems ?? noProblems;
}

/** The fetched features of `read`'s usable records, spread back over all of them (unread ones empty). */
function spreadBack(fetched: FetchedFeatures, unread: Set<number>, keyProblems: readonly FieldProblem[]): FetchedFeatures {
  const values: Record<string, Value>[] = [];
  const statuses: Record<string, ServedStatus>[] = [];
  const total = fetched.values.length + unread.size;
  let next = 0;
  for (let i = 0; i < total; i++) {
    const bad = unread.has(i);
    values.push(bad ? {} : (fetched.values[next] as Record<string, Value>));
    statuses.push(bad ? {} : (fetched.statuses[next] as Record<string, ServedStatus>));
    if (!bad) next++;
  }
  return { values, statuses, degraded: fetched.degraded, keyProblems };
}

/**
 * Online reads for the predict path behind a timeout and a circuit breaker. When the store
 * fails or the breaker is open, each record gets its entity's last good values, else the
 * deployment's declared defaults, else null — and the answer says `degraded`. It never hangs.
 */
export class FeatureFetcher {
  private readonly policy;
  private readonly breaker;
  /** Statuses too: a value the store said it did not have is no value to fall back on. */
  private readonly lastKnown = new Map<string, { values: Record<string, Value>; statuses: Record<string, ServedStatus> }>();
  /** Reads waiting for this turn's store call, by plan. */
  private readonly groups = new Map<ReadPlan, ReadGroup>();
  private flushQueued = false;

  constructor(
    private readonly features: FeatureStoreService,
    private readonly opts: FeatureFetcherOptions,
  ) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: opts.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(opts.failureThreshold),
    });
    // A read is idempotent, so one quick retry (with jitter) absorbs a blip; the whole read,
    // retry included, stays within the timeout, and the breaker counts the read's final outcome.
    const oneRetry = retry(handleAll, { maxAttempts: 1, backoff: new ExponentialBackoff({ initialDelay: 5, maxDelay: 25 }) });
    // abortOnReturn off: the store calls take no signal, and aborting after every read would
    // allocate a DOMException per request (measured: ~4% of the gateway's CPU under load).
    this.policy = wrap(
      timeout(opts.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }),
      this.breaker,
      oneRetry,
    );
  }

  /** closed: the store answers; open: reads go straight to fallbacks. */
  get breakerState(): string {
    return ['closed', 'open', 'half-open', 'isolated'][this.breaker.state] ?? String(this.breaker.state);
  }

  /**
   * Reads the plan's features for the records. Reads for the same plan made in one event-loop
   * turn (the requests that arrived together) share one store call, one timeout and one breaker
   * outcome; each caller gets its own records' values back. A record whose join key is missing
   * or of the wrong type is left out of the read and listed in `keyProblems`, so bad input never
   * reaches the store, counts as a store failure or degrades another request, and the caller can
   * still report the rest of what is wrong with the request.
   */
  read(plan: ReadPlan, records: Record<string, unknown>[], defaults: Record<string, Value>): Promise<FetchedFeatures> {
    const keyProblems = joinKeyProblems(plan, records);
    if (keyProblems.length === 0) return this.enqueue(plan, records, defaults);
    const unread = new Set(keyProblems.map((p) => p.record));
    const usable = records.filter((_, i) => !unread.has(i));
    const none: FetchedFeatures = { values: [], statuses: [], degraded: null, keyProblems: noProblems };
    const read = usable.length > 0 ? this.enqueue(plan, usable, defaults) : Promise.resolve(none);
    return read.then((fetched) => spreadBack(fetched, unread, keyProblems));
  }

  /** Joins this turn's read of the plan. */
  private enqueue(plan: ReadPlan, records: Record<string, unknown>[], defaults: Record<string, Value>): Promise<FetchedFeatures> {
    return new Promise((resolve, reject) => {
      let group = this.groups.get(plan);
      if (!group) {
        group = { records: [], waiters: [] };
        this.groups.set(plan, group);
      }
      group.waiters.push({ from: group.records.length, records, defaults, resolve, reject });
      for (const r of records) group.records.push(r);
      if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushQueued = false;
    const groups = [...this.groups];
    this.groups.clear();
    for (const [plan, group] of groups) void this.readGroup(plan, group);
  }

  /**
   * One store call for the group; then, per caller, its own rows and its request-time transforms.
   * Transforms run per caller, outside the store call: a transform that throws on one request's
   * fields fails that request (400) and neither degrades the others nor counts as a store failure.
   */
  private async readGroup(plan: ReadPlan, group: ReadGroup): Promise<void> {
    let got: OnlineFeatures | null = null;
    try {
      got = await this.policy.execute(() => this.features.readPlanned(plan, group.records, { transforms: false }));
    } catch {
      // The store failed or the breaker is open: every caller gets fallbacks (below).
    }
    let values: Record<string, Value>[] | null = null;
    let statuses: Record<string, ServedStatus>[] | null = null;
    if (got) {
      // Plain loops: this runs for every record served, and Object.fromEntries allocates a pair per feature.
      const names = got.features;
      values = new Array(got.rows.length);
      statuses = new Array(got.rows.length);
      for (let r = 0; r < got.rows.length; r++) {
        const row = got.rows[r] as OnlineFeatures['rows'][number];
        const v: Record<string, Value> = {};
        const st: Record<string, ServedStatus> = {};
        for (let i = 0; i < names.length; i++) {
          const name = names[i] as string;
          v[name] = row.values[i] ?? null;
          st[name] = row.statuses[i] ?? 'NOT_FOUND';
        }
        values[r] = v;
        statuses[r] = st;
        this.remember(entityOf(plan, group.records[r] as Record<string, unknown>), v, st);
      }
    }
    for (const w of group.waiters) {
      try {
        const to = w.from + w.records.length;
        const fetched: FetchedFeatures =
          values && statuses
            ? { values: values.slice(w.from, to), statuses: statuses.slice(w.from, to), degraded: null, keyProblems: noProblems }
            : this.fallback(plan, w.records, w.defaults);
        // In place: the remembered last-known values then carry transform outputs too, which the
        // fallback never reads (it takes stored features only).
        if (plan.transforms.length > 0) withTransforms(plan, w.records, fetched);
        w.resolve(fetched);
      } catch (e) {
        w.reject(transformError(e));
      }
    }
  }

  /** Store features from memory or defaults (request-time transforms are added by the caller). */
  private fallback(plan: ReadPlan, records: Record<string, unknown>[], defaults: Record<string, Value>): FetchedFeatures {
    const stored = storedOutputs(plan);
    const values: Record<string, Value>[] = [];
    const statuses: Record<string, ServedStatus>[] = [];
    for (const r of records) {
      const known = this.lastKnown.get(entityOf(plan, r));
      const v: Record<string, Value> = {};
      const s: Record<string, ServedStatus> = {};
      for (const f of stored) {
        const was = known?.statuses[f];
        if (was === 'PRESENT') {
          v[f] = (known as { values: Record<string, Value> }).values[f] ?? null;
          s[f] = 'LAST_KNOWN';
        } else if (was === undefined || defaults[f] !== undefined) {
          // Never read, or last read as missing (NOT_FOUND, OUTSIDE_MAX_AGE): a remembered
          // absence is no value, so the declared default stands in, as for an unknown entity.
          v[f] = defaults[f] ?? null;
          s[f] = 'DEFAULT';
        } else {
          // Missing last time and no default declared: say so rather than call null a last-known value.
          v[f] = null;
          s[f] = was;
        }
      }
      values.push(v);
      statuses.push(s);
    }
    return { values, statuses, degraded: 'store_unavailable', keyProblems: noProblems };
  }

  /** A bounded map in insertion order: re-inserting moves an entity to the young end. */
  private remember(key: string, values: Record<string, Value>, statuses: Record<string, ServedStatus>): void {
    this.lastKnown.delete(key);
    this.lastKnown.set(key, { values, statuses });
    if (this.lastKnown.size > this.opts.lastKnownEntries) {
      const oldest = this.lastKnown.keys().next().value;
      if (oldest !== undefined) this.lastKnown.delete(oldest);
    }
  }
}
