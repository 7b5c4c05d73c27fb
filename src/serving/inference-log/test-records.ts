import type { InferenceRecord } from './inference-record.ts';

/** A record with awkward values (float sums, escapes, unicode, nesting) so round trips are really tested. */
export function testRecord(i: number, deployment = i % 3 === 0 ? 'fraud' : 'delays'): InferenceRecord {
  return {
    requestId: `req_${String(i).padStart(6, '0')}`,
    time: Date.UTC(2026, 10, 22, 6, 0, 0) + i,
    deployment,
    model: { name: 'flights', version: 1 + (i % 2), digest: `sha256:${'ab'.repeat(32)}` },
    arm: i % 2 === 0 ? 'canary' : null,
    inputs: { i, origin: 'SFO\t"x"\n', distance: 0.1 + 0.2 * i, tags: ['a', 'é', '😀'], nested: { deep: [1, { k: null }] } },
    features: { values: { delay_7d: i / 7, hour: i % 24 }, statuses: { delay_7d: 'PRESENT', hour: 'NOT_FOUND' } },
    outputs: { predictions: [i % 2], probabilities: [[1 / 3, 2 / 3]] },
    latencyMs: 0.125 * i,
    randomDraw: i % 5 === 0 ? null : i / 1000,
    degraded: i % 7 === 0,
    extra: { sampled: true },
  };
}
