import { describe, expect, it } from 'vitest';
import type { FeatureStoreService, ReadPlan } from '../../features/index.ts';
import { FeatureFetcher } from './feature-fetcher.ts';

/** One stored feature (`trips__delay`) and a request-time transform reading the request's hour. */
const plan = {
  service: 'svc',
  joinKeys: ['origin'],
  views: [{ view: { name: 'trips', joinKeys: [{ name: 'origin', type: 'string' }] }, features: ['delay'], columns: [0] }],
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

  it('serves reads made in the same event-loop turn with one store call, each caller its own rows', async () => {
    const calls: string[][] = [];
    const fetcher = fetcherOver(async (...args: unknown[]) => {
      const entities = args[1] as { origin: string }[];
      calls.push(entities.map((e) => e.origin));
      // The store call covers the stored features only: transforms run per caller afterwards.
      return {
        features: ['trips__delay'],
        rows: entities.map((e) => ({ values: [e.origin.length], statuses: ['PRESENT'], eventTimes: [1] })),
      };
    });
    const at = '2001-01-21T10:00:00Z';
    const [one, two] = await Promise.all([
      fetcher.read(plan, [{ origin: 'ATL', event_timestamp: at }], {}),
      fetcher.read(
        plan,
        [
          { origin: 'BOSTON', event_timestamp: at },
          { origin: 'SF', event_timestamp: at },
        ],
        {},
      ),
    ]);
    expect(calls).toEqual([['ATL', 'BOSTON', 'SF']]);
    expect(one?.values).toEqual([{ trips__delay: 3, hour: 10 }]);
    expect(two?.values).toEqual([
      { trips__delay: 6, hour: 10 },
      { trips__delay: 2, hour: 10 },
    ]);
    // A later turn gets a call of its own.
    await fetcher.read(plan, [{ origin: 'JFK', event_timestamp: at }], {});
    expect(calls).toHaveLength(2);
  });

  it('leaves out a record whose join key is unusable: listed, never read, no breaker failure', async () => {
    let reads = 0;
    const fetcher = fetcherOver(async () => {
      reads++;
      return {
        features: ['trips__delay', 'hour'],
        rows: [{ values: [1, 0], statuses: ['PRESENT', 'PRESENT'], eventTimes: [1, 1] }],
      };
    });
    const good = fetcher.read(plan, [{ origin: 'ATL', event_timestamp: '2001-01-21T10:00:00Z' }], {});
    for (let i = 0; i < 5; i++) {
      expect(await fetcher.read(plan, [{ origin: 42 }], {})).toEqual({
        values: [{}],
        statuses: [{}],
        degraded: null,
        keyProblems: [{ record: 0, field: 'origin', message: expect.stringContaining('must be a string') }],
      });
    }
    expect(fetcher.breakerState).toBe('closed');
    // The bad records never joined the good request's read, which is served normally.
    expect(await good).toMatchObject({ values: [{ trips__delay: 1 }], degraded: null, keyProblems: [] });
    expect(reads).toBe(1);
  });

  it("reads a request's usable records and lists the others, each in its own place", async () => {
    const asked: string[][] = [];
    const fetcher = fetcherOver(async (...args: unknown[]) => {
      const entities = args[1] as { origin: string }[];
      asked.push(entities.map((e) => e.origin));
      return {
        features: ['trips__delay'],
        rows: entities.map((e) => ({ values: [e.origin.length], statuses: ['PRESENT'], eventTimes: [1] })),
      };
    });
    const at = '2001-01-21T10:00:00Z';
    const got = await fetcher.read(
      plan,
      [{ origin: null, event_timestamp: at }, { origin: 'BOSTON', event_timestamp: at }, { event_timestamp: at }],
      {},
    );
    expect(asked).toEqual([['BOSTON']]);
    expect(got.values).toEqual([{}, { trips__delay: 6, hour: 10 }, {}]);
    expect(got.statuses).toEqual([{}, { trips__delay: 'PRESENT', hour: 'PRESENT' }, {}]);
    expect(got.keyProblems.map((p) => [p.record, p.field])).toEqual([
      [0, 'origin'],
      [2, 'origin'],
    ]);
  });

  it('falls back to the declared default, not a last-known null, for an entity the store did not have', async () => {
    let up = true;
    const fetcher = fetcherOver(async () => {
      if (!up) throw new Error('store down');
      return { features: ['trips__delay'], rows: [{ values: [null], statuses: ['NOT_FOUND'], eventTimes: [null] }] };
    });
    const xyz = { origin: 'XYZ', event_timestamp: '2001-01-21T10:00:00Z' };
    expect(await fetcher.read(plan, [xyz], { trips__delay: -1 })).toMatchObject({
      values: [{ trips__delay: null }],
      statuses: [{ trips__delay: 'NOT_FOUND' }],
      degraded: null,
    });
    up = false;
    expect(await fetcher.read(plan, [xyz], { trips__delay: -1 })).toMatchObject({
      values: [{ trips__delay: -1, hour: 10 }],
      statuses: [{ trips__delay: 'DEFAULT', hour: 'PRESENT' }],
      degraded: 'store_unavailable',
    });
    // Without a default, the answer says the value is missing, as the store last did: not LAST_KNOWN.
    expect(await fetcher.read(plan, [xyz], {})).toMatchObject({
      values: [{ trips__delay: null }],
      statuses: [{ trips__delay: 'NOT_FOUND' }],
      degraded: 'store_unavailable',
    });
  });

  it('runs transforms per caller: one that throws on a request fails that request alone, not the store read', async () => {
    const picky = {
      ...plan,
      transforms: [
        {
          def: { name: 'calendar', outputs: [{ name: 'hour' }] },
          fn: (input: Record<string, unknown>) => {
            if (typeof input.event_timestamp !== 'string') throw new TypeError('event_timestamp must be text');
            return { hour: new Date(input.event_timestamp).getUTCHours() };
          },
          inputColumns: [{ name: 'event_timestamp', column: 'event_timestamp' }],
        },
      ],
    } as unknown as ReadPlan;
    let reads = 0;
    const fetcher = fetcherOver(async (...args: unknown[]) => {
      reads++;
      const entities = args[1] as unknown[];
      return { features: ['trips__delay'], rows: entities.map(() => ({ values: [5], statuses: ['PRESENT'], eventTimes: [1] })) };
    });
    const [bad, good] = await Promise.allSettled([
      fetcher.read(picky, [{ origin: 'ATL', event_timestamp: 7 }], {}),
      fetcher.read(picky, [{ origin: 'SFO', event_timestamp: '2001-01-21T08:00:00Z' }], {}),
    ]);
    expect(reads).toBe(1);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'VALIDATION_FAILED' } });
    expect(good).toMatchObject({ status: 'fulfilled', value: { values: [{ trips__delay: 5, hour: 8 }], degraded: null } });
    expect(fetcher.breakerState).toBe('closed');
  });
});
