import { sqlString } from '../../storage/index.ts';
import { logColumns, recordStructure } from './inference-record.ts';
import type { LogSnapshot } from './log-catalog.ts';
import { checksumMatchesSql } from './segment-codec.ts';

/** Longest line a query reads; appends refuse records larger than maxRecordBytes, well under it. */
const maxLineBytes = 32 * 1024 * 1024;
export const maxRecordBytes = 16 * 1024 * 1024;

const list = (paths: string[]) => `[${paths.map(sqlString).join(', ')}]`;
const columnNames = logColumns.map((c) => c.name).join(', ');

/**
 * Segment lines read raw (checksum, JSON) without any CSV interpretation: JSON never holds a raw
 * tab or newline, so the tab splits the checksum off and nothing else. A torn or corrupt line
 * fails the checksum and is left out, as recovery would leave it out.
 */
export function segmentRelation(paths: string[]): string {
  const raw = `read_csv(${list(paths)}, delim = '\t', quote = '', escape = '', header = false, auto_detect = false,
    columns = {'c': 'VARCHAR', 'j': 'VARCHAR'}, new_line = '\\n', ignore_errors = true, strict_mode = false,
    max_line_size = ${maxLineBytes}, buffer_size = ${maxLineBytes})`;
  const cols = logColumns.map((c) => `${c.path}::${c.type} AS ${c.name}`).join(', ');
  return `SELECT ${cols} FROM (SELECT json_transform(j, ${sqlString(recordStructure)}) AS r FROM ${raw} WHERE ${checksumMatchesSql})`;
}

export function parquetRelation(paths: string[]): string {
  return `SELECT ${columnNames} FROM read_parquet(${list(paths)}, union_by_name = true)`;
}

const emptyRelation = `SELECT ${logColumns.map((c) => `NULL::${c.type} AS ${c.name}`).join(', ')} LIMIT 0`;

/** The `inference_log` view over a snapshot: every Parquet file, then every segment not yet compacted. */
export function logRelation(snap: LogSnapshot): string {
  const parts: string[] = [];
  if (snap.parquet.length > 0) parts.push(parquetRelation(snap.parquet));
  if (snap.segments.length > 0) parts.push(segmentRelation(snap.segments));
  return parts.length > 0 ? parts.join('\nUNION ALL\n') : emptyRelation;
}
