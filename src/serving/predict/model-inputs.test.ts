import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { feedsFor, rowsOf } from './model-inputs.ts';

describe('feedsFor', () => {
  it('stacks each input over the rows with its type, a missing float as NaN and array values spread', () => {
    const feeds = feedsFor(
      [
        { name: 'distance', dtype: 'float32', shape: ['N', 1] },
        { name: 'delay', dtype: 'float64', shape: ['N'] },
        { name: 'pair', dtype: 'float32', shape: ['N', 2] },
        { name: 'carrier', dtype: 'string', shape: ['N', 1] },
        { name: 'night', dtype: 'bool', shape: ['N', 1] },
        { name: 'hour', dtype: 'int32', shape: ['N', 1] },
        { name: 'day', dtype: 'int64', shape: ['N', 1] },
      ],
      [
        { distance: 2586, delay: null, pair: [1, 2], carrier: 'UA', night: true, hour: 23, day: 5 },
        { distance: '0.5', delay: 7.25, pair: [3, 4], carrier: null, night: false, hour: 6, day: 6 },
      ],
    );
    const data = (name: string) => (feeds[name] as ort.Tensor).data;
    expect(feeds.distance?.type).toBe('float32');
    expect(feeds.distance?.dims).toEqual([2, 1]);
    expect([...(data('distance') as Float32Array)]).toEqual([2586, 0.5]);
    expect(feeds.delay?.dims).toEqual([2]);
    expect(Number.isNaN((data('delay') as Float64Array)[0])).toBe(true);
    expect((data('delay') as Float64Array)[1]).toBe(7.25);
    expect(feeds.pair?.dims).toEqual([2, 2]);
    expect([...(data('pair') as Float32Array)]).toEqual([1, 2, 3, 4]);
    expect(data('carrier')).toEqual(['UA', '']);
    expect([...(data('night') as Uint8Array)]).toEqual([1, 0]);
    expect([...(data('hour') as Int32Array)]).toEqual([23, 6]);
    expect([...(data('day') as BigInt64Array)]).toEqual([5n, 6n]);
  });
});

describe('rowsOf', () => {
  it('gives each row its own values: one per row as itself, several as an array, int64 as numbers', () => {
    const out = rowsOf(
      {
        label: new ort.Tensor('int64', BigInt64Array.from([1n, 0n, 1n]), [3]),
        probabilities: new ort.Tensor('float32', Float32Array.from([0.25, 0.75, 0.5, 0.5, 1, 0]), [3, 2]),
      },
      3,
    );
    expect(out).toEqual([
      { label: 1, probabilities: [0.25, 0.75] },
      { label: 0, probabilities: [0.5, 0.5] },
      { label: 1, probabilities: [1, 0] },
    ]);
  });

  it('answers every row even when an output is empty', () => {
    expect(rowsOf({ y: new ort.Tensor('float32', new Float32Array(0), [0]) }, 2)).toEqual([{ y: [] }, { y: [] }]);
  });
});
