import { describe, expect, it } from 'vitest';
import type { FeatureStoreService, ReadPlan } from '../../features/index.ts';
import { FeatureFetcher } from './feature-fetcher.ts';

/** One stored feature (`trips__delay`) and a request-time transform reading the request's hour. */
const plan = {
  service: 'svc',
  joinKeys: ['origin'],
  views: [{ view: { name: 'trips', joinKeys: [{ name: 'origin' }] }, features: ['delay'], columns: [0] }],
  outputs: ['trips__delay', 'hour'],
  transforms: [
    {
      def: { name: 'calendar', outputs: [{ name: 'hour' }] },
      fn: (input: Record<string, unknown>) => ({ hour: new Date(String(input.event_timestamp)).getUTCHours() }),
      inputColumns: [{ name: 'event_timestamp', column: 'event_timestamp' }],
    },
  ],
} as unknown as ReadPlan;

function fetcherOver(read: () => Promise<unknown>) {
  const features = { readPlanned: read } as unknown as FeatureStoreService;
  return new FeatureFetcher(features, { timeoutMs: 100, failureThreshold: 2, halfOpenAfterMs: 60_000, lastKnownEntries: 10 });
}

describe('FeatureFetcher', () => {
  it('falls back to last known values, then declared defaults, and still runs request-time transforms', async () => {
    let up = true;
    const fetcher = fetcherOver(async () => {
      if (!up) throw new Error('store down');
      return {
        features: ['trips__delay', 'hour'],
        rows: [{ values: [7, 10], statuses: ['PRESENT', 'PRESENT'], eventTimes: [1, 1] }],
      };
    });
    const atl = { origin: 'ATL', event_timestamp: '2001-01-21T10:00:00Z' };
    expect(await fetcher.read(plan, [atl], {})).toMatchObject({ values: [{ trips__delay: 7, hour: 10 }], degraded: null });

    up = false;
    const later = { origin: 'ATL', event_timestamp: '2001-01-21T17:00:00Z' };
    const sfo = { origin: 'SFO', event_timestamp: '2001-01-21T08:00:00Z' };
    const degraded = await fetcher.read(plan, [later, sfo], { trips__delay: -1 });
    expect(degraded.degraded).toBe('store_unavailable');
    // The transform sees this request's time, not the remembered one.
    expect(degraded.values).toEqual([
      { trips__delay: 7, hour: 17 },
      { trips__delay: -1, hour: 8 },
    ]);
    expect(degraded.statuses).toEqual([
      { trips__delay: 'LAST_KNOWN', hour: 'PRESENT' },
      { trips__delay: 'DEFAULT', hour: 'PRESENT' },
    ]);
    // A failed read (its one retry included) counts once; the second opens the breaker.
    expect(fetcher.breakerState).toBe('closed');
    await fetcher.read(plan, [sfo], {});
    expect(fetcher.breakerState).toBe('open');
  });
});
