import { constants as fsConstants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, type Clock } from '../../core/index.ts';
import { LineBuffer } from './segment-codec.ts';
import { fsyncDir, segmentPath, writeAll } from './segment-files.ts';

export interface GroupCommitOptions {
  /** A batch takes queued records up to this many bytes (at least one record); 1 = one fsync per record. */
  maxBatchBytes: number;
  /** How long the first record after an idle spell waits for company; 0 = flush at once. */
  maxWaitMs: number;
  segmentMaxBytes: number;
  segmentMaxAgeMs: number;
}

export interface WriterStats {
  appends: number;
  batches: number;
  /** Synchronous writes (O_DSYNC) or fdatasync calls made for records (directory syncs on segment creation are not counted). */
  syncs: number;
  bytes: number;
  largestBatch: number;
  segmentsRolled: number;
}

/** One write's worth of lines and the callers waiting on it; it takes appends until a drain takes it. */
interface Batch {
  lines: LineBuffer;
  resolves: (() => void)[];
  rejects: ((e: unknown) => void)[];
}

/**
 * Segments are opened O_DSYNC where the platform has it: each write(2) returns only once its data
 * (and the file size) is on stable storage, so a batch costs one thread-pool job and one trip
 * through a busy event loop instead of two (write, then fdatasync). Elsewhere: write + fdatasync.
 */
const dsync = fsConstants.O_DSYNC;
const segmentFlags =
  dsync === undefined ? 'wx' : fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_APPEND | dsync;

/** Largest buffer kept for reuse: a batch's size at full load, well past the ~50 KB of 64 clients. */
const spareLimitBytes = 2 * 1024 * 1024;

/**
 * Appends encoded records to the active segment with group commit: while one synchronous write
 * is in flight, new records queue; the next batch takes them all in one buffer and one write.
 * A caller's promise settles only after the write (or fdatasync) covering its record returns.
 */
export class GroupCommitWriter {
  readonly stats: WriterStats = { appends: 0, batches: 0, syncs: 0, bytes: 0, largestBatch: 0, segmentsRolled: 0 };
  /** Batches not yet written, oldest first; only the last one takes appends. */
  private queue: Batch[] = [];
  /** Buffers of batches already written, for the next ones (no allocation and regrowth per write). */
  private readonly spareLines: LineBuffer[] = [];
  private queuedBytes = 0;
  private fh: FileHandle | null = null;
  private seq = 0;
  private size = 0;
  private openedAt = 0;
  private rollWanted = false;
  private draining: Promise<void> | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private failure: AppError | null = null;
  private closed = false;
  private readonly ageTimer: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private nextSeq: number,
    private readonly opts: GroupCommitOptions,
    private readonly clock: Clock,
    /** Called with the sequence number of each segment closed by a roll (not by close()). */
    private readonly onSegmentClosed: (seq: number) => void,
  ) {
    this.ageTimer = setInterval(() => this.checkAge(), Math.max(10, Math.min(1000, opts.segmentMaxAgeMs / 4)));
    this.ageTimer.unref();
  }

  /** Appends a record's JSON text as one line; resolves once the write covering it has returned. */
  append(json: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new AppError('UNAVAILABLE', 'the inference log is closed'));
    return new Promise<void>((resolve, reject) => {
      const batch = this.batchFor(json.length);
      const bytes = batch.lines.push(json);
      batch.resolves.push(resolve);
      batch.rejects.push(reject);
      this.queuedBytes += bytes;
      this.stats.appends++;
      this.kick();
    });
  }

  /** The open batch, or a new one when there is none or this line (at least `minBytes`) would take it past maxBatchBytes. */
  private batchFor(minBytes: number): Batch {
    const last = this.queue[this.queue.length - 1];
    if (last && (last.lines.bytes === 0 || last.lines.bytes + minBytes <= this.opts.maxBatchBytes)) return last;
    const batch: Batch = { lines: this.spareLines.pop() ?? new LineBuffer(), resolves: [], rejects: [] };
    this.queue.push(batch);
    return batch;
  }

  /** Closes the active segment after the batch in flight, so it can be compacted. */
  roll(): Promise<void> {
    this.rollWanted = true;
    this.kick(true);
    return this.draining ?? Promise.resolve();
  }

  /** Flushes everything queued, then closes the active segment file (every record in it is synced). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.ageTimer);
    this.kick(true);
    while (this.draining) await this.draining;
    await this.fh?.close();
    this.fh = null;
  }

  private checkAge(): void {
    if (this.fh && this.size > 0 && this.clock.now() - this.openedAt >= this.opts.segmentMaxAgeMs) void this.roll();
  }

  private kick(now = false): void {
    if (this.draining) return;
    if (!now && !this.waitTimer && this.opts.maxWaitMs > 0 && this.queuedBytes < this.opts.maxBatchBytes) {
      this.waitTimer = setTimeout(() => this.startDrain(), this.opts.maxWaitMs);
      return;
    }
    if (now || !this.waitTimer || this.queuedBytes >= this.opts.maxBatchBytes) this.startDrain();
  }

  private startDrain(): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      // One microtask hop: records appended in the same tick as the first (the rows of one model
      // batch) join it. After that, a batch goes as soon as the one before is durable, with
      // whatever queued meanwhile: waiting for another event-loop turn only adds latency.
      await Promise.resolve();
      for (;;) {
        if (this.queue.length > 0) await this.writeBatch(this.takeBatch());
        else if (this.rollWanted) await this.closeSegment();
        else return;
      }
    } finally {
      this.draining = null;
    }
  }

  private takeBatch(): Batch {
    const batch = this.queue.shift() as Batch;
    this.queuedBytes -= batch.lines.bytes;
    return batch;
  }

  private async writeBatch(batch: Batch): Promise<void> {
    if (this.failure) {
      for (const reject of batch.rejects) reject(this.failure);
      return;
    }
    try {
      const fh = this.fh ?? (await this.openSegment());
      const buf = batch.lines.view();
      await writeAll(fh, buf);
      if (dsync === undefined) await fh.datasync();
      this.size += buf.length;
      this.stats.batches++;
      this.stats.syncs++;
      this.stats.bytes += buf.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.resolves.length);
      for (const resolve of batch.resolves) resolve();
      // Written: its buffer serves a later batch, already grown to a batch's size under load.
      // (Not one a huge record grew: that memory goes back.)
      if (this.spareLines.length < 2 && batch.lines.capacity <= spareLimitBytes) {
        batch.lines.reset();
        this.spareLines.push(batch.lines);
      }
      if (this.size >= this.opts.segmentMaxBytes) this.rollWanted = true;
      if (this.rollWanted) await this.closeSegment();
    } catch (e) {
      // After a failed write or fsync the file's state is unknown (a partial line may sit at its
      // end), so nothing more is appended to it: every caller from now on gets a clear 503.
      this.failure = new AppError('UNAVAILABLE', `inference log write failed: ${(e as Error).message}`);
      for (const b of [batch, ...this.queue.splice(0)]) for (const reject of b.rejects) reject(this.failure);
      this.queuedBytes = 0;
    }
  }

  private async openSegment(): Promise<FileHandle> {
    this.seq = this.nextSeq++;
    const fh = await open(segmentPath(this.dir, this.seq), segmentFlags);
    await fsyncDir(join(this.dir, 'segments'));
    this.fh = fh;
    this.size = 0;
    this.openedAt = this.clock.now();
    return fh;
  }

  private async closeSegment(): Promise<void> {
    this.rollWanted = false;
    if (!this.fh) return;
    const fh = this.fh;
    this.fh = null;
    this.stats.segmentsRolled++;
    // Announced before the fd is released so the segment is never missing from a query's snapshot.
    this.onSegmentClosed(this.seq);
    await fh.close();
  }

  /** The sequence number of the segment being appended to, or null between segments. */
  get activeSeq(): number | null {
    return this.fh ? this.seq : null;
  }
}
