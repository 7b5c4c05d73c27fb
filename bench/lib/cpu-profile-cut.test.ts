import { describe, expect, it } from 'vitest';
import { type CpuProfile, difference, type Round, selfTimes } from './cpu-profile-cut.ts';

const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 3 });

/** Samples every 10 µs from t = 1000: `run` (in a dependency) and `decode` (the project's), with idle between. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('run', 'file:///repo/node_modules/onnxruntime-node/dist/backend.js') },
    { id: 2, callFrame: frame('decode', 'file:///repo/src/serving/oip/oip-request.ts') },
    { id: 3, callFrame: frame('(idle)', '') },
  ],
  startTime: 1000,
  samples: [1, 2, 3, 1, 2, 1, 1, 3],
  timeDeltas: [0, 10, 10, 10, 10, 10, 10, 10],
};

const rounds: Round[] = [
  { side: 'oip', concurrency: 1, requests: 2, startUs: '1000', endUs: '1030' },
  { side: 'baseline', concurrency: 1, requests: 4, startUs: '1030', endUs: '1080' },
];

describe('selfTimes', () => {
  it('counts only the side’s rounds, per request, idle left out, sources shortened', () => {
    const oip = selfTimes([profile], rounds, { side: 'oip', by: 'function', root: '/repo' });
    // Samples at 1000 (run), 1010 (decode), 1020 (idle): 10 µs each over 2 requests.
    expect(oip.requests).toBe(2);
    expect(oip.busyUs).toBe(10);
    expect(oip.rows).toEqual([
      ['run nm/onnxruntime-node/dist/backend.js:3', 5],
      ['decode src/serving/oip/oip-request.ts:3', 5],
    ]);
    const base = selfTimes([profile], rounds, { side: 'baseline', by: 'file', root: '/repo' });
    // Samples at 1030 (run), 1040 (decode), 1050 (run), 1060 (run), 1070 (idle, the last: no time after it).
    expect(base.requests).toBe(4);
    expect(base.rows).toEqual([
      ['nm/onnxruntime-node/dist/backend.js', 7.5],
      ['src/serving/oip/oip-request.ts', 2.5],
    ]);
    expect(selfTimes([profile], rounds, { side: 'oip', concurrency: 64, by: 'file', root: '/repo' }).requests).toBe(0);
  });

  it('differences line up rows by name, a row missing on one side counting 0', () => {
    const a = {
      requests: 1,
      busyUs: 9,
      rows: [
        ['x', 6],
        ['y', 3],
      ] as [string, number][],
    };
    const b = {
      requests: 1,
      busyUs: 5,
      rows: [
        ['x', 4],
        ['z', 1],
      ] as [string, number][],
    };
    expect(difference(a, b)).toEqual([
      ['y', 3, 3, 0],
      ['x', 2, 6, 4],
      ['z', -1, 0, 1],
    ]);
  });
});
