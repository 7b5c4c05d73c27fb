import { mkdir, open, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { scanSegment } from './segment-codec.ts';
import { fsyncDir, listSeqs, segmentPath, seqName } from './segment-files.ts';

/** What opening the log found and repaired. */
export interface RecoveryReport {
  /** Segments left by the last run (not yet compacted) that hold records. */
  segments: number;
  /** Valid records in those segments. */
  records: number;
  /** Segments whose end was cut short by a crash, truncated back to their last whole record. */
  tornTails: number;
  /** Partial lines dropped from those tails (none of them had been acknowledged). */
  tornRecords: number;
  tornBytes: number;
  /** Bad lines between good ones: damage to acknowledged data, kept out of every read. */
  corruptRecords: number;
  /** Segments already compacted when the crash came (their Parquet file is complete), removed. */
  compactedSegmentsRemoved: number;
}

export interface RecoveredState {
  report: RecoveryReport;
  closedSegments: number[];
  parquet: Map<number, string>;
  nextSeq: number;
}

async function listParquet(dir: string): Promise<Map<number, string>> {
  const root = join(dir, 'parquet');
  const out = new Map<number, string>();
  for (const date of (await readdir(root)).sort()) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) continue;
    for (const seq of await listSeqs(join(root, date), 'parquet')) out.set(seq, join(root, date, seqName(seq, 'parquet')));
  }
  return out;
}

/**
 * Brings the log folder to a clean state before appending: temp files of interrupted compactions
 * are dropped, a torn tail is truncated (and synced) so the segment ends at a whole record, empty
 * segments go. New appends always start a new segment, after every number seen.
 */
export async function recoverLog(dir: string): Promise<RecoveredState> {
  await rm(join(dir, 'tmp'), { recursive: true, force: true });
  for (const sub of ['segments', 'parquet', 'tmp']) await mkdir(join(dir, sub), { recursive: true });
  const report: RecoveryReport = {
    segments: 0,
    records: 0,
    tornTails: 0,
    tornRecords: 0,
    tornBytes: 0,
    corruptRecords: 0,
    compactedSegmentsRemoved: 0,
  };
  const parquet = await listParquet(dir);
  const closedSegments: number[] = [];
  let changed = false;
  let maxSeq = Math.max(0, ...parquet.keys());
  for (const seq of await listSeqs(join(dir, 'segments'), 'jsonl')) {
    maxSeq = Math.max(maxSeq, seq);
    const path = segmentPath(dir, seq);
    if (parquet.has(seq)) {
      await unlink(path);
      report.compactedSegmentsRemoved++;
      changed = true;
      continue;
    }
    const scan = scanSegment(await readFile(path));
    report.corruptRecords += scan.corrupt;
    if (scan.tornBytes > 0) {
      report.tornTails++;
      report.tornRecords += scan.tornLines;
      report.tornBytes += scan.tornBytes;
      const fh = await open(path, 'r+');
      try {
        await fh.truncate(scan.validEnd);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    if (scan.validEnd === 0) {
      await unlink(path);
      changed = true;
      continue;
    }
    report.segments++;
    report.records += scan.records;
    closedSegments.push(seq);
  }
  if (changed) await fsyncDir(join(dir, 'segments'));
  return { report, closedSegments, parquet, nextSeq: maxSeq + 1 };
}
