import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter } from './fast-counter.ts';

const options = (registry: Registry, labelNames: readonly ('code' | 'deployment')[] = ['code', 'deployment']) => ({
  name: 'keel_test_total',
  help: 'test counter',
  labelNames,
  registers: [registry],
});

describe('FastCounter', () => {
  it('exposes exactly what prom-client’s Counter exposes for the same increments', async () => {
    const fastRegistry = new Registry();
    const referenceRegistry = new Registry();
    const fast = new FastCounter(options(fastRegistry));
    const reference = new Counter(options(referenceRegistry));
    const kept = { code: 'ok', deployment: 'delay' };
    const increments: [Record<'code' | 'deployment', string>, number | undefined][] = [
      [kept, undefined],
      [kept, 2],
      [{ code: 'ok', deployment: 'delay' }, 1],
      [{ deployment: 'other', code: 'NOT_FOUND' }, undefined],
      [{ code: 'OVERLOADED', deployment: 'delay' }, 0.5],
    ];
    for (const [labels, v] of increments) {
      fast.inc(labels, v);
      reference.inc(labels, v);
    }
    fast.labels({ code: 'ok', deployment: 'bound' }).inc();
    reference.labels({ code: 'ok', deployment: 'bound' }).inc();
    // Bound but never incremented: exposed by neither.
    fast.labels({ code: 'ok', deployment: 'idle' });
    reference.labels({ code: 'ok', deployment: 'idle' });
    expect(await fastRegistry.metrics()).toBe(await referenceRegistry.metrics());
    expect(await fastRegistry.getMetricsAsJSON()).toEqual(await referenceRegistry.getMetricsAsJSON());
  });

  it('exposes a counter without labels at 0 from the start, as prom-client does', async () => {
    const fastRegistry = new Registry();
    const referenceRegistry = new Registry();
    new FastCounter(options(fastRegistry, []));
    new Counter(options(referenceRegistry, []));
    expect(await fastRegistry.metrics()).toBe(await referenceRegistry.metrics());
  });

  it('refuses values that are not finite or are negative, as prom-client does', () => {
    const fast = new FastCounter(options(new Registry()));
    expect(() => fast.inc({ code: 'ok', deployment: 'd' }, Number.NaN)).toThrow(TypeError);
    expect(() => fast.inc({ code: 'ok', deployment: 'd' }, -1)).toThrow('decrease');
  });
});
