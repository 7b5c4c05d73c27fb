import { describe, expect, it } from 'vitest';
import { decodeSegment, encodeRecord, LineBuffer, scanSegment } from './segment-codec.ts';
import { testRecord } from './test-records.ts';

const lines = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => encodeRecord(testRecord(i))));

describe('segment codec', () => {
  it('round-trips records, escapes and unicode included', () => {
    expect(decodeSegment(lines(5))).toEqual(Array.from({ length: 5 }, (_, i) => testRecord(i)));
  });

  it('lays a batch of lines into one growing buffer exactly as the lines one by one, multi-byte text included', () => {
    const batch = new LineBuffer(64);
    const sizes = Array.from({ length: 7 }, (_, i) => batch.push(JSON.stringify(testRecord(i))));
    expect(batch.bytes).toBe(sizes.reduce((n, b) => n + b, 0));
    expect(batch.view().equals(lines(7))).toBe(true);
    expect(scanSegment(batch.view())).toMatchObject({ records: 7, corrupt: 0, tornLines: 0 });
  });

  it('sizes a line by its UTF-8 bytes: astral characters, lone surrogates and 3-byte characters', () => {
    const record = { ...testRecord(1), inputs: { text: '😀'.repeat(50), lone: '\ud800x', cjk: '漢'.repeat(40) } };
    const batch = new LineBuffer(16);
    const size = batch.push(JSON.stringify(record));
    expect(size).toBe(Buffer.byteLength(JSON.stringify(record), 'utf8') + 18);
    expect(decodeSegment(batch.view())).toEqual([record]);
  });

  it('treats a zero-filled tail (a power cut after the size grew) as torn, not as records', () => {
    const good = lines(3);
    const scan = scanSegment(Buffer.concat([good, Buffer.alloc(4096), Buffer.from('\n'), Buffer.alloc(100)]));
    expect(scan).toEqual({ records: 3, corrupt: 0, tornLines: 2, tornBytes: 4197, validEnd: good.length });
  });

  it('counts a bad line followed by good ones as corruption, not a torn tail', () => {
    const a = encodeRecord(testRecord(1));
    const b = Buffer.from(encodeRecord(testRecord(2)));
    b[30] = (b[30] ?? 0) ^ 1;
    const c = encodeRecord(testRecord(3));
    const all = Buffer.concat([a, b, c]);
    expect(scanSegment(all)).toEqual({ records: 2, corrupt: 1, tornLines: 0, tornBytes: 0, validEnd: all.length });
    expect(decodeSegment(all).map((r) => r.requestId)).toEqual(['req_000001', 'req_000003']);
  });

  it('drops a last line that lacks its newline even when the JSON happens to be complete', () => {
    const whole = lines(2);
    expect(scanSegment(whole.subarray(0, whole.length - 1))).toMatchObject({ records: 1, tornLines: 1 });
  });
});
