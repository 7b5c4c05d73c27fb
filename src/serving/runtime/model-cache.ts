import type * as ort from 'onnxruntime-node';
import { AppError, type Clock, type Logger } from '../../core/index.ts';
import type { ModelSignature } from '../../registry/index.ts';
import type { ModelSession, SessionFactory } from './ort-session.ts';
import { warmupFeeds } from './warmup.ts';

/** UNLOADED: not in memory (never loaded, evicted or unloaded). FAILED keeps the reason until a retry. */
export type ModelState = 'UNLOADED' | 'LOADING' | 'READY' | 'FAILED';

/** What the cache needs to load a model: its bytes' digest and size (for the memory estimate) and its signature (for warm-up). */
export interface ModelRef {
  digest: string;
  size: number;
  signature: ModelSignature;
}

export interface ModelStatus {
  digest: string;
  state: ModelState;
  /** Why the last load failed (FAILED), or how warm-up went when it did not run cleanly. */
  reason?: string;
  estimatedBytes: number;
  inFlight: number;
  lastUsedAt: number | null;
}

/** A loaded model held for one or more runs: it cannot be unloaded until released. */
export interface ModelLease {
  readonly session: ModelSession;
  run(feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>>;
  release(): void;
}

export interface ModelCacheOptions {
  /** Sum of estimated model memory the cache keeps loaded before it unloads idle models, least recently used first. */
  budgetBytes: number;
  /** Estimated memory of a model = its ONNX file size × this factor. */
  memoryFactor: number;
  warmup: boolean;
  /** A failed model answers with its failure for this long before a request may try loading it again. */
  failedRetryMs: number;
  readBytes(digest: string): Promise<Uint8Array>;
  createSession: SessionFactory;
  clock: Clock;
  logger: Logger;
}

interface Entry {
  ref: ModelRef;
  state: 'LOADING' | 'READY' | 'FAILED';
  estimate: number;
  session?: ModelSession;
  loading?: Promise<void>;
  reason?: string;
  failedAt: number;
  inFlight: number;
  /** Unloaded or evicted: no new leases; the session is released when the last lease ends. */
  retired: boolean;
  lastUsedAt: number | null;
}

/**
 * Loaded ONNX models keyed by artifact digest, so versions (or models) with the same bytes share
 * one session. Loads on first use, deduplicates concurrent loads, warms up before READY, and keeps
 * the estimated memory under a budget by unloading idle models least recently used first; a model
 * with runs in flight is never unloaded. A model that fails to load is FAILED on its own.
 */
export class ModelCache {
  // Map order is recency order: every use moves an entry to the end, so eviction walks from the front.
  private readonly entries = new Map<string, Entry>();
  /** The entry last moved to the end of `entries` (see `startRun`). */
  private newest: Entry | undefined;

  constructor(private readonly opts: ModelCacheOptions) {}

  /** Loads the model when needed and holds it for runs; UNAVAILABLE when it failed to load. Call `release()` after. */
  async acquire(ref: ModelRef): Promise<ModelLease> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let e = this.entries.get(ref.digest);
      if (!e || (e.state === 'FAILED' && this.opts.clock.now() - e.failedAt >= this.opts.failedRetryMs)) e = this.startLoad(ref);
      if (e.state === 'LOADING') await e.loading;
      if (e.state === 'FAILED') throw unavailable(e);
      // Evicted or unloaded while this caller waited: look again (a fresh load, or its failure).
      if (e.retired || !e.session) continue;
      this.startRun(e);
      return this.lease(e, e.session);
    }
    throw new AppError('UNAVAILABLE', `model ${ref.digest} was unloaded while loading; retry`);
  }

  /** Acquire, run, release. A model already loaded runs without the lease and the awaited lookup `acquire` costs. */
  run(ref: ModelRef, feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    const e = this.entries.get(ref.digest);
    if (e && e.state === 'READY' && e.session && !e.retired) return this.runOn(e, e.session, feeds, fetches);
    return this.runAcquired(ref, feeds, fetches);
  }

  private async runOn(e: Entry, session: ModelSession, feeds: Record<string, ort.Tensor>, fetches?: readonly string[]) {
    this.startRun(e);
    try {
      return await session.run(feeds, fetches);
    } finally {
      this.released(e);
    }
  }

  private async runAcquired(ref: ModelRef, feeds: Record<string, ort.Tensor>, fetches?: readonly string[]) {
    const lease = await this.acquire(ref);
    try {
      return await lease.run(feeds, fetches);
    } finally {
      lease.release();
    }
  }

  /** Loads now (retrying a failed model at once) and resolves when READY; UNAVAILABLE with the reason when it fails. */
  async load(ref: ModelRef): Promise<void> {
    const e = this.entries.get(ref.digest);
    if (!e || e.state === 'FAILED') this.startLoad(ref);
    (await this.acquire(ref)).release();
  }

  /** Starts loading in the background unless the model is loaded, loading or failed recently. */
  prefetch(ref: ModelRef): void {
    if (!this.entries.has(ref.digest))
      this.acquire(ref).then(
        (l) => l.release(),
        () => undefined,
      );
  }

  /** Removes a model from memory; runs in flight finish first on the old session. False when it was not loaded. */
  unload(digest: string): boolean {
    const e = this.entries.get(digest);
    if (!e) return false;
    this.retire(e);
    return true;
  }

  status(digest: string): ModelStatus {
    const e = this.entries.get(digest);
    if (!e) return { digest, state: 'UNLOADED', estimatedBytes: 0, inFlight: 0, lastUsedAt: null };
    return {
      digest,
      state: e.state,
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      estimatedBytes: e.estimate,
      inFlight: e.inFlight,
      lastUsedAt: e.lastUsedAt,
    };
  }

  list(): ModelStatus[] {
    return [...this.entries.keys()].map((d) => this.status(d));
  }

  /** Estimated memory of the models loaded or loading now. */
  usedBytes(): number {
    let used = 0;
    for (const e of this.entries.values()) if (e.state !== 'FAILED') used += e.estimate;
    return used;
  }

  async close(): Promise<void> {
    const loading = [...this.entries.values()].map((e) => e.loading);
    for (const e of [...this.entries.values()]) this.retire(e);
    await Promise.all(loading);
  }

  private startLoad(ref: ModelRef): Entry {
    const previous = this.entries.get(ref.digest);
    if (previous) this.retire(previous);
    const e: Entry = {
      ref,
      state: 'LOADING',
      estimate: Math.ceil(ref.size * this.opts.memoryFactor),
      failedAt: 0,
      inFlight: 0,
      retired: false,
      lastUsedAt: null,
    };
    this.entries.set(ref.digest, e);
    this.newest = e;
    this.makeRoom();
    e.loading = this.loadInto(e).finally(() => {
      e.loading = undefined;
    });
    return e;
  }

  private async loadInto(e: Entry): Promise<void> {
    const started = this.opts.clock.now();
    let session: ModelSession;
    try {
      session = await this.opts.createSession(await this.opts.readBytes(e.ref.digest));
    } catch (err) {
      e.state = 'FAILED';
      e.failedAt = this.opts.clock.now();
      e.reason = `failed to load: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
      this.opts.logger.warn({ digest: e.ref.digest, reason: e.reason }, 'model failed to load');
      return;
    }
    if (this.opts.warmup) {
      const reason = await warmUp(session, e.ref.signature);
      if (reason) {
        // Zeros are not valid input for every model; one that cannot take them still serves real requests.
        e.reason = reason;
        this.opts.logger.warn({ digest: e.ref.digest, reason }, 'model warm-up did not run cleanly');
      }
    }
    if (e.retired) {
      await session.release().catch(() => undefined);
      return;
    }
    e.session = session;
    e.state = 'READY';
    this.opts.logger.info({ digest: e.ref.digest, ms: this.opts.clock.now() - started }, 'model loaded');
  }

  private lease(e: Entry, session: ModelSession): ModelLease {
    return new Lease(session, () => this.released(e));
  }

  private released(e: Entry): void {
    e.inFlight--;
    if (e.inFlight > 0) return;
    if (e.retired) this.releaseSession(e);
    else if (this.usedBytes() > this.opts.budgetBytes) this.makeRoom();
  }

  /** A run starts on `e` (a lease or `run`'s own): most recently used, and not unloaded until it ends (`released`). */
  private startRun(e: Entry): void {
    e.inFlight++;
    e.lastUsedAt = this.opts.clock.now();
    // Moved to the end of the map (most recently used) unless it is there already: with one hot
    // model, every run would otherwise delete and re-insert the same entry.
    if (this.newest === e) return;
    this.entries.delete(e.ref.digest);
    this.entries.set(e.ref.digest, e);
    this.newest = e;
  }

  /**
   * Unloads idle models, least recently used first, until the loaded ones fit the budget. Models with
   * runs in flight are skipped, and so is the most recently used one (the model being loaded, or the
   * one just used): a model bigger than the whole budget still loads and serves, alone.
   */
  private makeRoom(): void {
    let used = this.usedBytes();
    const entries = [...this.entries.values()];
    const newest = entries.at(-1);
    for (const e of entries) {
      if (used <= this.opts.budgetBytes) return;
      if (e === newest || e.state !== 'READY' || e.inFlight > 0) continue;
      used -= e.estimate;
      this.opts.logger.info({ digest: e.ref.digest, bytes: e.estimate }, 'model unloaded to stay under the memory budget');
      this.retire(e);
    }
  }

  private retire(e: Entry): void {
    e.retired = true;
    if (this.entries.get(e.ref.digest) === e) this.entries.delete(e.ref.digest);
    if (this.newest === e) this.newest = undefined;
    if (e.inFlight === 0) this.releaseSession(e);
  }

  private releaseSession(e: Entry): void {
    const session = e.session;
    e.session = undefined;
    session?.release().catch((err: unknown) => this.opts.logger.warn({ err, digest: e.ref.digest }, 'session release failed'));
  }
}

// A class rather than an object of closures: leases are made per request, and closures cost more to create.
class Lease implements ModelLease {
  private done = false;

  constructor(
    readonly session: ModelSession,
    private readonly onRelease: () => void,
  ) {}

  run(feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    return this.session.run(feeds, fetches);
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.onRelease();
  }
}

function unavailable(e: Entry): AppError {
  return new AppError('UNAVAILABLE', e.reason ?? 'model failed to load', { state: 'FAILED' });
}

async function warmUp(session: ModelSession, signature: ModelSignature): Promise<string | undefined> {
  const feeds = warmupFeeds(signature);
  if (!feeds) return 'warm-up skipped: an input is not a tensor of known rank';
  try {
    await session.run(feeds);
    return undefined;
  } catch (err) {
    return `warm-up failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
  }
}
