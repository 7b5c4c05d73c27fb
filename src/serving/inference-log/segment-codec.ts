import { hash } from 'node:crypto';
import type { InferenceRecord } from './inference-record.ts';

/**
 * A segment line is `<checksum>\t<record JSON>\n`, the checksum being the first 16 hex digits of
 * the MD5 of the JSON's UTF-8 bytes. MD5 rather than CRC32 because DuckDB can compute it too, so
 * queries over segments not yet compacted drop a bad line exactly as recovery does. JSON.stringify
 * escapes tabs and newlines inside strings, so neither appears raw in the JSON part.
 */
const checksumLength = 16;
const tab = 0x09;
const newline = 0x0a;

// The one-shot hash skips the Hash object's allocation, which costs more than the digest at ~1 KB.
const checksumOf = (json: string | Uint8Array): string => hash('md5', json, 'hex').slice(0, checksumLength);

/** SQL that is true when a segment line read as (c, j) carries the right checksum. */
export const checksumMatchesSql = `left(md5(j), ${checksumLength}) = c`;

/** A record ready to be written: its JSON, the checksum of the JSON's UTF-8 bytes, and the line's size in bytes. */
export interface EncodedLine {
  json: string;
  checksum: string;
  bytes: number;
}

/**
 * Encodes a record as a line without building its bytes: a batch of lines is laid into one buffer
 * at write time (writeLines), one allocation per batch instead of one per record and a copy.
 * Throws (TypeError) for values JSON cannot hold, such as bigint or circular objects.
 */
export function encodeLine(record: InferenceRecord): EncodedLine {
  const json = JSON.stringify(record);
  return { json, checksum: checksumOf(json), bytes: checksumLength + 2 + Buffer.byteLength(json, 'utf8') };
}

/** Writes lines into `buf` from `offset` (which must have room for their bytes); returns the end offset. */
export function writeLines(lines: readonly EncodedLine[], buf: Buffer, offset = 0): number {
  let at = offset;
  for (const line of lines) {
    at += buf.write(line.checksum, at, checksumLength, 'latin1');
    buf[at++] = tab;
    at += buf.write(line.json, at, line.bytes - checksumLength - 2, 'utf8');
    buf[at++] = newline;
  }
  return at;
}

/** One record as its segment line's bytes (tests and tools). */
export function encodeRecord(record: InferenceRecord): Buffer {
  const line = encodeLine(record);
  const buf = Buffer.allocUnsafe(line.bytes);
  writeLines([line], buf);
  return buf;
}

function lineIsValid(line: Uint8Array): boolean {
  if (line.length < checksumLength + 3 || line[checksumLength] !== tab) return false;
  const stored = Buffer.from(line.buffer, line.byteOffset, checksumLength).toString('latin1');
  return stored === checksumOf(line.subarray(checksumLength + 1));
}

export interface SegmentScan {
  /** Lines whose checksum holds. */
  records: number;
  /** Bad lines followed by good ones: damage to data that had been made durable. */
  corrupt: number;
  /** Bad lines (or an unterminated piece) after the last good line: a write a crash cut short. */
  tornLines: number;
  tornBytes: number;
  /** Offset just past the last good line; the file is truncated here on recovery. */
  validEnd: number;
}

/** Checks every line of a segment. Appends are durable in order, so only a tail can be torn. */
export function scanSegment(buf: Buffer): SegmentScan {
  let pos = 0;
  let validEnd = 0;
  let records = 0;
  let corrupt = 0;
  let badRun = 0;
  while (pos < buf.length) {
    const end = buf.indexOf(newline, pos);
    if (end === -1) {
      badRun++;
      break;
    }
    if (lineIsValid(buf.subarray(pos, end))) {
      records++;
      corrupt += badRun;
      badRun = 0;
      validEnd = end + 1;
    } else {
      badRun++;
    }
    pos = end + 1;
  }
  return { records, corrupt, tornLines: badRun, tornBytes: buf.length - validEnd, validEnd };
}

/** The records of a segment whose checksum holds, in file order (tests and tools). */
export function decodeSegment(buf: Buffer): InferenceRecord[] {
  const out: InferenceRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf(newline, pos);
    if (end === -1) break;
    const line = buf.subarray(pos, end);
    if (lineIsValid(line)) out.push(JSON.parse(line.subarray(checksumLength + 1).toString('utf8')) as InferenceRecord);
    pos = end + 1;
  }
  return out;
}
