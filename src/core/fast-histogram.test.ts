import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from './fast-histogram.ts';

const options = (registry: Registry) => ({
  name: 'keel_test_seconds',
  help: 'test histogram',
  labelNames: ['stage', 'deployment'] as const,
  buckets: [0.001, 0.01, 0.1, 1],
  registers: [registry],
});

describe('FastHistogram', () => {
  it('exposes exactly what prom-client’s Histogram exposes for the same observations', async () => {
    const fastRegistry = new Registry();
    const referenceRegistry = new Registry();
    const fast = new FastHistogram(options(fastRegistry));
    const reference = new Histogram(options(referenceRegistry));
    const kept = { stage: 'features', deployment: 'delay' };
    const observations: [Record<'stage' | 'deployment', string>, number][] = [
      [kept, 0.0005],
      [kept, 0.001],
      [{ stage: 'features', deployment: 'delay' }, 0.05],
      [{ stage: 'log', deployment: 'delay' }, 2.5],
      [{ deployment: 'other', stage: 'log' }, 0.2],
      [kept, 0],
    ];
    for (const [labels, v] of observations) {
      fast.observe(labels, v);
      reference.observe(labels, v);
    }
    const bound = fast.labels({ stage: 'total', deployment: 'delay' });
    bound.observe(0.003);
    reference.observe({ stage: 'total', deployment: 'delay' }, 0.003);
    expect(await fastRegistry.metrics()).toBe(await referenceRegistry.metrics());
    // The JSON form too, but for prom-client's empty exemplar fields.
    const json = async (r: Registry) =>
      JSON.parse(JSON.stringify(await r.getMetricsAsJSON(), (k, v) => (k === 'exemplar' ? undefined : v))) as unknown;
    expect(await json(fastRegistry)).toEqual(await json(referenceRegistry));
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const fast = new FastHistogram(options(new Registry()));
    expect(() => fast.observe({ stage: 'a', deployment: 'b' }, Number.NaN)).toThrow(TypeError);
  });

  it('starts over on reset, label objects seen before included', async () => {
    const registry = new Registry();
    const fast = new FastHistogram(options(registry));
    const labels = { stage: 'a', deployment: 'b' };
    fast.observe(labels, 1);
    fast.reset();
    fast.observe(labels, 0.5);
    const values = (await fast.get()).values.filter((v) => v.metricName.endsWith('_count'));
    expect(values).toEqual([{ labels, value: 1, metricName: 'keel_test_seconds_count' }]);
  });
});
