/**
 * Timers are injected into the batcher so tests drive time by hand (FakeBatchTimers) instead of
 * asserting against the wall clock.
 */
export interface BatchTimers {
  /** Runs `fn` after `delayMs`; a delay under 1 ms means the next event-loop turn. Returns a cancel function. */
  schedule(fn: () => void, delayMs: number): () => void;
}

export const systemBatchTimers: BatchTimers = {
  schedule(fn, delayMs) {
    // setTimeout cannot wait less than 1 ms; setImmediate runs after the I/O poll phase, so work that
    // arrives on sockets in the same turn still joins the batch.
    if (delayMs < 1) {
      const handle = setImmediate(fn);
      return () => clearImmediate(handle);
    }
    const handle = setTimeout(fn, delayMs);
    return () => clearTimeout(handle);
  },
};
