import type { BatchTiming } from './batcher-types.ts';
import type { QueueKey } from './request-queue.ts';

/** One submit() call while it is queued or running. */
export interface PendingRequest<I, O> extends QueueKey {
  readonly items: I[];
  readonly results: O[];
  /** First item not yet taken into a batch. */
  next: number;
  /** Items with results. */
  done: number;
  settled: boolean;
  /** The submitter's, when it asked when its first batch starts. */
  readonly timing: BatchTiming | undefined;
  /** Running batches holding some of its items. */
  readonly batches: Set<RunningBatch<I, O>>;
  resolve(outputs: O[]): void;
  reject(error: unknown): void;
  /** Cancels its deadline timer and abort listener. */
  cleanup(): void;
}

/** A contiguous run of one request's items inside a batch. */
export interface Slice<I, O> {
  req: PendingRequest<I, O>;
  from: number;
  count: number;
}

/**
 * A batch's abort signal, made only when a runner reads it: the model runners never do, and an
 * AbortController per batch (at low load, per request) is a measurable cost on the hot path.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort();
  }
}

export interface RunningBatch<I, O> {
  slices: Slice<I, O>[];
  abort: LazyAbort;
  /** Requests in it not yet settled; at 0 nobody will read the result and the batch signal aborts. */
  live: number;
}

export const sliceItems = <I, O>(slices: Slice<I, O>[]): number => slices.reduce((n, s) => n + s.count, 0);

export function gatherItems<I, O>(slices: Slice<I, O>[]): I[] {
  const items: I[] = [];
  for (const s of slices) for (let i = s.from; i < s.from + s.count; i++) items.push(s.req.items[i] as I);
  return items;
}

/** Splits slices into the first `rows` items and the rest, cutting one slice in two where needed. */
export function splitSlices<I, O>(slices: Slice<I, O>[], rows: number): [Slice<I, O>[], Slice<I, O>[]] {
  const left: Slice<I, O>[] = [];
  const right: Slice<I, O>[] = [];
  let room = rows;
  for (const s of slices) {
    if (room >= s.count) {
      left.push(s);
      room -= s.count;
    } else if (room > 0) {
      left.push({ req: s.req, from: s.from, count: room });
      right.push({ req: s.req, from: s.from + room, count: s.count - room });
      room = 0;
    } else {
      right.push(s);
    }
  }
  return [left, right];
}
