import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/index.ts';
import { type AnalyticsEngine, sqlString } from '../../storage/index.ts';
import type { LogCatalog } from './log-catalog.ts';
import { segmentRelation } from './log-relation.ts';
import { fsyncDir, fsyncFile, segmentPath, seqName, utcDate } from './segment-files.ts';

export interface CompactorStats {
  segmentsCompacted: number;
  recordsCompacted: number;
  failures: number;
}

/**
 * Turns closed segments into Parquet, oldest first, one at a time in the background: DuckDB
 * writes `<dir>/tmp/<seq>.parquet`, which is synced and renamed into `parquet/<date>/`, and only
 * then is the segment deleted. A crash at any point leaves either the segment or the Parquet file
 * (or both, which recovery resolves in favour of the Parquet file).
 */
export class LogCompactor {
  readonly stats: CompactorStats = { segmentsCompacted: 0, recordsCompacted: 0, failures: 0 };
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly engine: AnalyticsEngine,
    private readonly catalog: LogCatalog,
    private readonly logger: Logger,
  ) {}

  /** Starts a pass over the closed segments (or schedules one after the pass under way). */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.kick();
      }
    });
    return this.running;
  }

  /** Waits until no pass is running; passes already requested are not started. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running) await this.running;
  }

  private async pass(): Promise<void> {
    for (const seq of [...this.catalog.closedSegments].sort((a, b) => a - b)) {
      if (this.stopped) return;
      try {
        await this.compact(seq);
      } catch (e) {
        // The segment stays and stays queryable; the next pass (next roll or reopen) retries it.
        // Later segments go on: one that cannot be compacted must not hold back every other.
        this.stats.failures++;
        this.logger.error({ err: e, segment: seq }, 'inference log compaction failed');
      }
    }
  }

  private async compact(seq: number): Promise<void> {
    const segment = segmentPath(this.dir, seq);
    // One pass over the segment: parsing and checksumming its lines is most of compaction's CPU,
    // and the gateway shares the machine. The count and the first time come from the Parquet file,
    // which reads one column.
    const tmp = join(this.dir, 'tmp', seqName(seq, 'parquet'));
    await this.engine.run(`COPY (${segmentRelation([segment])}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    const [info] = await this.engine.all<{ n: number; first: number | null }>(
      `SELECT count(*) AS n, min(time) AS first FROM read_parquet(${sqlString(tmp)})`,
    );
    let published: string | null = null;
    if (info && info.n > 0) {
      // A record without a usable time still gets a home: today's folder.
      const date = utcDate(info.first ?? Date.now());
      await fsyncFile(tmp);
      const folder = join(this.dir, 'parquet', date);
      if ((await mkdir(folder, { recursive: true })) !== undefined) await fsyncDir(join(this.dir, 'parquet'));
      published = join(folder, seqName(seq, 'parquet'));
      await rename(tmp, published);
      await fsyncDir(folder);
      this.stats.recordsCompacted += info.n;
    } else {
      await unlink(tmp);
    }
    this.catalog.publish(seq, published);
    await this.catalog.whenNoReaders();
    await unlink(segment);
    await fsyncDir(join(this.dir, 'segments'));
    this.stats.segmentsCompacted++;
  }
}
