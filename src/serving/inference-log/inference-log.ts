import { join, resolve } from 'node:path';
import { AppError, type Clock, type Logger, silentLogger, systemClock } from '../../core/index.ts';
import { type AnalyticsEngine, createAnalyticsEngine, duckError, sqlString } from '../../storage/index.ts';
import { type GroupCommitOptions, GroupCommitWriter, type WriterStats } from './group-commit-writer.ts';
import { type InferenceRecord, rowToRecord } from './inference-record.ts';
import { LogCatalog, type LogSnapshot } from './log-catalog.ts';
import { type CompactorStats, LogCompactor } from './log-compactor.ts';
import { checkLogQuery } from './log-query-guard.ts';
import { type RecoveryReport, recoverLog } from './log-recovery.ts';
import { logRelation, maxRecordBytes } from './log-relation.ts';

export interface InferenceLogOptions extends Partial<GroupCommitOptions> {
  /** The log folder: `segments/`, `parquet/<date>/`, `tmp/`. */
  dir: string;
  /** Compact closed segments into Parquet in the background (default true). */
  compact?: boolean;
  /** Rows a query returns at most (default 10,000); more are cut and flagged `truncated`. */
  maxQueryRows?: number;
  duckdbThreads?: number;
  duckdbMemoryLimit?: string;
  clock?: Clock;
  logger?: Logger;
}

export const inferenceLogDefaults: GroupCommitOptions = {
  maxBatchBytes: 1024 * 1024,
  maxWaitMs: 0,
  segmentMaxBytes: 64 * 1024 * 1024,
  segmentMaxAgeMs: 60_000,
};

export interface LogQueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  truncated: boolean;
}

export type InferenceLogStats = WriterStats & CompactorStats & { pendingSegments: number; parquetFiles: number };

export const inferenceLogView = 'inference_log';

/** DuckDB's types reached through the storage port, so serving never imports the driver itself. */
type Connection = Parameters<Parameters<AnalyticsEngine['withConnection']>[0]>[0];
type ResultReader = Awaited<ReturnType<Connection['runAndReadUntil']>>;

/**
 * JSON.stringify writes an unpaired surrogate as a lowercase `\udXXX` escape (paired ones stay raw).
 * DuckDB's JSON reader refuses such text, and one such line would fail every query over its
 * segment and its compaction, so the log refuses the record instead. An odd run of backslashes
 * before `ud` marks an escape rather than a logged backslash; the includes() spares the regex.
 */
const loneSurrogateEscape = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;
export const hasLoneSurrogate = (json: string): boolean => json.includes('\\ud') && loneSurrogateEscape.test(json);

/**
 * A query result value as JSON can carry it, walking DuckDB's JS form beside its JSON form:
 * integers stay numbers while they are exact and become text past 2^53 (UBIGINT, HUGEINT, sums),
 * blobs take DuckDB's text form, dates stay dates; lists, structs and maps are walked.
 */
function jsonSafe(js: unknown, json: unknown): unknown {
  if (typeof js === 'bigint')
    return js >= BigInt(Number.MIN_SAFE_INTEGER) && js <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(js) : String(js);
  if (js === null || typeof js !== 'object' || js instanceof Date) return js;
  if (js instanceof Uint8Array) return json;
  const other = (json ?? {}) as Record<string | number, unknown>;
  if (Array.isArray(js)) return js.map((v, i) => jsonSafe(v, other[i]));
  return Object.fromEntries(Object.entries(js).map(([k, v]) => [k, jsonSafe(v, other[k])]));
}

/**
 * The durable inference log (DESIGN §4): `append` resolves only once the record is on disk
 * (group commit), closed segments roll into Parquet, and `queryLog` reads both through DuckDB.
 */
export class InferenceLog {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly writer: GroupCommitWriter,
    private readonly catalog: LogCatalog,
    private readonly compactor: LogCompactor | null,
    private readonly engine: AnalyticsEngine,
    private readonly maxQueryRows: number,
    /** What opening the log found and repaired (torn tails truncated, corrupt lines counted). */
    readonly recovery: RecoveryReport,
  ) {}

  /** Opens (creating if needed) the log in `opts.dir`, recovering what a crash left behind. */
  static async open(options: InferenceLogOptions): Promise<InferenceLog> {
    // Absolute, so DuckDB's allowed_directories and the paths handed to it always agree.
    const opts = { ...options, dir: resolve(options.dir) };
    const logger = opts.logger ?? silentLogger;
    const state = await recoverLog(opts.dir);
    if (state.report.tornTails > 0 || state.report.corruptRecords > 0)
      logger.warn({ dir: opts.dir, ...state.report }, 'inference log recovered from an unclean shutdown');
    const dir = `${opts.dir.replace(/\/+$/, '')}/`;
    const engine = await createAnalyticsEngine({
      threads: opts.duckdbThreads ?? 1,
      memoryLimit: opts.duckdbMemoryLimit ?? '512MB',
      init: [
        `SET temp_directory = ${sqlString(join(opts.dir, 'tmp', 'duckdb'))}`,
        `SET allowed_directories = [${sqlString(dir)}]`,
        'SET autoinstall_known_extensions = false',
        'SET autoload_known_extensions = false',
        'SET enable_external_access = false',
        'SET lock_configuration = true',
      ],
    });
    const catalog = new LogCatalog(opts.dir);
    for (const [seq, path] of state.parquet) catalog.parquet.set(seq, path);
    for (const seq of state.closedSegments) catalog.closedSegments.add(seq);
    const compactor = opts.compact === false ? null : new LogCompactor(opts.dir, engine, catalog, logger);
    const writerOpts: GroupCommitOptions = {
      maxBatchBytes: opts.maxBatchBytes ?? inferenceLogDefaults.maxBatchBytes,
      maxWaitMs: opts.maxWaitMs ?? inferenceLogDefaults.maxWaitMs,
      segmentMaxBytes: opts.segmentMaxBytes ?? inferenceLogDefaults.segmentMaxBytes,
      segmentMaxAgeMs: opts.segmentMaxAgeMs ?? inferenceLogDefaults.segmentMaxAgeMs,
    };
    const writer = new GroupCommitWriter(opts.dir, state.nextSeq, writerOpts, opts.clock ?? systemClock, (seq) => {
      catalog.closedSegments.add(seq);
      void compactor?.kick();
    });
    if (state.closedSegments.length > 0) void compactor?.kick();
    return new InferenceLog(writer, catalog, compactor, engine, opts.maxQueryRows ?? 10_000, state.report);
  }

  /** Resolves once the record is durable (its synchronous write returned); rejects with UNAVAILABLE if it cannot be. */
  append(record: InferenceRecord): Promise<void> {
    let json: string;
    try {
      // Throws (TypeError) for values JSON cannot hold, such as bigint or circular objects.
      json = JSON.stringify(record);
    } catch (e) {
      // A RangeError is a stack overflow: input nested deeper than the serialiser can follow.
      if (e instanceof RangeError)
        return Promise.reject(
          new AppError('VALIDATION_FAILED', `inference record ${record.requestId} is nested too deeply to be logged`),
        );
      return Promise.reject(
        new AppError('INTERNAL', `inference record ${record.requestId} cannot be serialised: ${(e as Error).message}`),
      );
    }
    if (hasLoneSurrogate(json))
      return Promise.reject(
        new AppError(
          'VALIDATION_FAILED',
          `inference record ${record.requestId} holds a string with an unpaired UTF-16 surrogate (\\ud800–\\udfff), which is not valid Unicode`,
        ),
      );
    // UTF-8 needs at least a byte per UTF-16 unit and at most three: count bytes only when it could matter.
    if (json.length * 3 > maxRecordBytes) {
      const bytes = Buffer.byteLength(json, 'utf8');
      if (bytes > maxRecordBytes)
        return Promise.reject(
          new AppError(
            'PAYLOAD_TOO_LARGE',
            `inference record ${record.requestId} is ${bytes} bytes; the log takes at most ${maxRecordBytes}`,
          ),
        );
    }
    return this.writer.append(json);
  }

  /**
   * Runs one read-only query (SELECT or WITH … SELECT) over the `inference_log` view: every
   * Parquet file plus the segments not yet compacted, so a record is queryable once appended.
   */
  async queryLog(sql: string, opts: { maxRows?: number } = {}): Promise<LogQueryResult> {
    await checkLogQuery(this.engine, sql, inferenceLogView);
    const max = opts.maxRows ?? this.maxQueryRows;
    return this.withView(async (run) => {
      const reader = await run(sql, max + 1);
      const asJson = reader.getRowObjectsJson();
      const rows = reader.getRowObjectsJS().map((r, i) => jsonSafe(r, asJson[i]) as Record<string, unknown>);
      return { columns: reader.columnNames(), rows: rows.slice(0, max), truncated: rows.length > max };
    });
  }

  /** The logged record of a request (for replay), or null. */
  async findRecord(requestId: string): Promise<InferenceRecord | null> {
    return this.withView(async (run) => {
      const reader = await run(`SELECT * FROM ${inferenceLogView} WHERE request_id = ${sqlString(requestId)} LIMIT 1`, 1);
      const [row] = reader.getRowObjectsJS();
      return row ? rowToRecord(row) : null;
    });
  }

  /** Closes the active segment now (it is compacted in the background). */
  roll(): Promise<void> {
    return this.writer.roll();
  }

  /** Waits until every closed segment has been compacted (tests, tools). */
  async compactNow(): Promise<void> {
    await this.compactor?.kick();
    if (this.catalog.closedSegments.size > 0) await this.compactor?.kick();
  }

  stats(): InferenceLogStats {
    const compaction = this.compactor?.stats ?? { segmentsCompacted: 0, recordsCompacted: 0, failures: 0 };
    return {
      ...this.writer.stats,
      ...compaction,
      pendingSegments: this.catalog.closedSegments.size,
      parquetFiles: this.catalog.parquet.size,
    };
  }

  /** Flushes and syncs every pending record, stops compaction and releases the files (graceful shutdown). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.writer.close();
      await this.compactor?.stop();
      await this.engine.close();
    })();
    return this.closing;
  }

  private withView<T>(fn: (run: (sql: string, maxRows: number) => Promise<ResultReader>) => Promise<T>): Promise<T> {
    return this.catalog.read(this.writer.activeSeq, (snap: LogSnapshot) =>
      this.engine.withConnection(async (conn) => {
        await conn.run(`CREATE OR REPLACE TEMP VIEW ${inferenceLogView} AS ${logRelation(snap)}`);
        try {
          return await fn(async (sql, maxRows) => {
            try {
              return await conn.runAndReadUntil(sql, maxRows);
            } catch (e) {
              throw duckError(e, 'log query failed');
            }
          });
        } finally {
          await conn.run(`DROP VIEW IF EXISTS ${inferenceLogView}`);
        }
      }),
    );
  }
}
