import { describe, expect, it } from 'vitest';
import {
  decodeFields,
  encodeRow,
  encodeValue,
  FIELD_SEP,
  fieldPlan,
  type OnlineValue,
  rowSchema,
  schemaIdOf,
} from './online-row-codec.ts';

const decodeAll = (text: string, stored: string[], requested: string[]) => {
  const out: OnlineValue[] = new Array(requested.length).fill(null);
  decodeFields(text, 0, fieldPlan(rowSchema(stored), requested), out);
  return out;
};

describe('online row codec', () => {
  it('encodes a columnar row with one tag per value', () => {
    const columns = [
      [1.5, 2],
      ['x', 'a\x1fb'],
      [true, false],
      [null, null],
    ];
    expect(encodeRow(columns, 0)).toBe(['1.5', 'sx', 't', ''].join(FIELD_SEP));
    expect(encodeRow(columns, 1)).toBe(['2', 'j"a\\u001fb"', 'f', ''].join(FIELD_SEP));
    expect(encodeRow([], 0)).toBe('');
  });

  it('decodes only the requested fields, in request order, and nulls for unknown ones', () => {
    const stored = ['a', 'b', 'c', 'd'];
    const text = encodeRow([[7], ['s'], [null], ['a\x1fz']], 0);
    expect(decodeAll(text, stored, ['d', 'a', 'zz', 'c', 'b'])).toEqual(['a\x1fz', 7, null, null, 's']);
    expect(decodeAll(text, stored, [])).toEqual([]);
  });

  it('reads a row shorter than its schema (damaged) as nulls instead of throwing', () => {
    expect(decodeAll(`1${FIELD_SEP}sx`, ['a', 'b', 'c', 'd'], ['d', 'b', 'a'])).toEqual([null, 'x', 1]);
  });

  it('maps non-finite numbers to the null encoding and keeps every finite double exactly', () => {
    expect([Number.NaN, Number.POSITIVE_INFINITY, undefined, null].map(encodeValue)).toEqual(['', '', '', '']);
    for (const x of [0.1 + 0.2, -1e-310, 2 ** 53 + 2, 123456789.12345679, Number.MIN_VALUE, -Number.MAX_VALUE]) {
      expect(decodeAll(encodeValue(x), ['x'], ['x'])).toEqual([x]);
    }
  });

  it('names a feature list by its content, order included', () => {
    expect(schemaIdOf(['a', 'b'])).toBe(schemaIdOf(['a', 'b']));
    expect(schemaIdOf(['a', 'b'])).not.toBe(schemaIdOf(['b', 'a']));
    expect(schemaIdOf(['a,b'])).not.toBe(schemaIdOf(['a', 'b']));
    expect(schemaIdOf(['a'])).toMatch(/^[0-9a-f]{16}$/);
  });
});
