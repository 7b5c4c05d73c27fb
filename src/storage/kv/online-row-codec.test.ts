import { describe, expect, it } from 'vitest';
import {
  decodeFields,
  encodeRows,
  fieldPlan,
  type OnlineValue,
  ROW_HEADER_BYTES,
  rowSchema,
  schemaIdOf,
} from './online-row-codec.ts';

/** Encodes one row and decodes `requested` of it. */
function roundTrip(values: unknown[], stored: string[], requested: string[], schemaId: number | null = null): OnlineValue[] {
  const { buf, ends } = encodeRows(
    values.map((v) => [v]),
    [1234.5],
    0,
    1,
    schemaId,
  );
  const out: OnlineValue[] = new Array(requested.length).fill(null);
  decodeFields(buf.subarray(0, ends[0]), schemaId === null ? 0 : ROW_HEADER_BYTES, fieldPlan(rowSchema(stored), requested), out);
  return out;
}

describe('online row codec', () => {
  it('round-trips every type and decodes only the requested fields, in request order', () => {
    const stored = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const values = [7, -2.5, 'héllo ✓', '', true, false, null];
    expect(roundTrip(values, stored, stored)).toEqual(values);
    expect(roundTrip(values, stored, ['g', 'c', 'zz', 'a', 'c'])).toEqual([null, 'héllo ✓', null, 7, 'héllo ✓']);
    expect(roundTrip(values, stored, [])).toEqual([]);
  });

  it('keeps every finite double and int32 boundary exactly; non-finite numbers become null, -0 becomes 0', () => {
    const xs = [0.1 + 0.2, -1e-310, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 2 ** 53 - 1, Number.MIN_VALUE, -Number.MAX_VALUE];
    const names = xs.map((_, i) => `x${i}`);
    expect(roundTrip(xs, names, names)).toEqual(xs);
    const odd = roundTrip([Number.NaN, Number.POSITIVE_INFINITY, -0, undefined], ['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd']);
    expect(odd.slice(0, 2)).toEqual([null, null]);
    expect(Object.is(odd[2], 0)).toBe(true);
    expect(odd[3]).toBeNull();
  });

  it('writes the header (event time, schema id) before each row and packs rows back to back', () => {
    const id = schemaIdOf(['a']);
    const { buf, ends } = encodeRows([[1, 'long string '.repeat(50)]], [10, 20], 0, 2, id);
    const second = buf.subarray(ends[0], ends[1]);
    expect([buf.readDoubleLE(0), buf.readUIntLE(8, 6), second.readDoubleLE(0), second.readUIntLE(8, 6)]).toEqual([
      10,
      id,
      20,
      id,
    ]);
    expect(roundTrip(['x'], ['a'], ['a'], id)).toEqual(['x']);
  });

  it('reads the fields of a row cut short (damaged) as null instead of throwing', () => {
    const { buf, ends } = encodeRows([[1.5], ['abc'], [2]], [0], 0, 1, null);
    const out: OnlineValue[] = [null, null, null];
    decodeFields(buf.subarray(0, (ends[0] as number) - 4), 0, fieldPlan(rowSchema(['a', 'b', 'c']), ['c', 'b', 'a']), out);
    expect(out).toEqual([null, 'abc', 1.5]);
  });

  it('names a feature list by its content, order included, within 48 bits', () => {
    expect(schemaIdOf(['a', 'b'])).toBe(schemaIdOf(['a', 'b']));
    expect(schemaIdOf(['a', 'b'])).not.toBe(schemaIdOf(['b', 'a']));
    expect(schemaIdOf(['a,b'])).not.toBe(schemaIdOf(['a', 'b']));
    expect(Number.isSafeInteger(schemaIdOf(['a']))).toBe(true);
  });
});
