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

// The one-shot hash skips the Hash object's allocation, which costs more than the digest at ~1 KB;
// hashing the laid bytes, not the string, spares a second UTF-8 conversion.
const checksumOf = (json: Uint8Array): string => hash('md5', json, 'hex').slice(0, checksumLength);

/** SQL that is true when a segment line read as (c, j) carries the right checksum. */
export const checksumMatchesSql = `left(md5(j), ${checksumLength}) = c`;

/**
 * The lines of one write, encoded straight into the buffer that is written: no per-record string,
 * object or buffer outlives its append (at full load they did: each record's JSON sat on the heap
 * until its batch was written, and young-generation collections copied it). Grows by doubling.
 */
export class LineBuffer {
  private buf: Buffer;
  private used = 0;

  /** `initialBytes`: small by default, since at low load a batch is one record; it doubles as lines come. */
  constructor(initialBytes = 8 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Bytes the buffer holds room for. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Bytes laid so far. */
  get bytes(): number {
    return this.used;
  }

  /** Lays `json` (a record's JSON text) as one line; returns the line's size in bytes. */
  push(json: string): number {
    const start = this.used;
    const body = start + checksumLength + 1;
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    this.reserve(body + json.length * 3 + 1);
    const n = this.buf.write(json, body, 'utf8');
    this.buf.write(checksumOf(this.buf.subarray(body, body + n)), start, checksumLength, 'latin1');
    this.buf[body - 1] = tab;
    this.buf[body + n] = newline;
    this.used = body + n + 1;
    return this.used - start;
  }

  /** Empties the buffer for another batch, keeping its memory (grown to the size batches reach). */
  reset(): void {
    this.used = 0;
  }

  /** The laid lines (a view, valid until the next push). */
  view(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  private reserve(end: number): void {
    if (end <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(end, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}

/** One record as its segment line's bytes (tests and tools). */
export function encodeRecord(record: InferenceRecord): Buffer {
  const lines = new LineBuffer(256);
  lines.push(JSON.stringify(record));
  return Buffer.from(lines.view());
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
