import { segmentPath } from './segment-files.ts';

export interface LogSnapshot {
  parquet: string[];
  segments: string[];
}

/**
 * Which files hold the log right now: Parquet files by segment number, and closed segments not
 * yet compacted. A compaction swaps a segment for its Parquet file in one synchronous step, so a
 * snapshot never holds both or neither; the segment file is unlinked only once no query that
 * might still read it is running.
 */
export class LogCatalog {
  readonly parquet = new Map<number, string>();
  readonly closedSegments = new Set<number>();
  private readers = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly dir: string) {}

  snapshot(activeSeq: number | null): LogSnapshot {
    const seqs = [...this.closedSegments];
    if (activeSeq !== null) seqs.push(activeSeq);
    return {
      parquet: [...this.parquet.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p),
      segments: seqs.sort((a, b) => a - b).map((s) => segmentPath(this.dir, s)),
    };
  }

  /** Runs `fn` on a snapshot; segment files in it stay on disk until `fn` settles. */
  async read<T>(activeSeq: number | null, fn: (snap: LogSnapshot) => Promise<T>): Promise<T> {
    this.readers++;
    try {
      return await fn(this.snapshot(activeSeq));
    } finally {
      this.readers--;
      if (this.readers === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  publish(seq: number, parquetPath: string | null): void {
    if (parquetPath) this.parquet.set(seq, parquetPath);
    this.closedSegments.delete(seq);
  }

  whenNoReaders(): Promise<void> {
    return this.readers === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }
}
