import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import { type OnlineReadRequest, type OnlineStore, RedisOnlineStore } from '../../src/storage/index.ts';
import { percentile } from '../lib/stats.ts';
import { columnarBlock, entityRange, featureNames, prng } from './data.ts';

export interface ReadDataset {
  views: string[];
  /** Features stored per view. */
  features: string[];
  entities: number;
}

export interface ReadScenario {
  name: string;
  entities: number;
  /** Features requested from each view (the first n of the view's features, reversed). */
  perView: number;
}

export interface SideStats {
  p50: number;
  p99: number;
  mean: number;
}

export type ReadSide = (requests: OnlineReadRequest[]) => Promise<unknown>;

/** Writes the same rows into every store, `batch` rows per write() as a materializer would. */
export async function seedReadData(stores: OnlineStore[], data: ReadDataset, batch = 10_000): Promise<void> {
  for (const [v, view] of data.views.entries()) {
    for (let from = 0; from < data.entities; from += batch) {
      const rows = Math.min(batch, data.entities - from);
      const write = {
        view,
        features: data.features,
        entityKeys: entityRange(from, rows),
        eventTimes: new Float64Array(rows).fill(1_700_000_000_000 + v),
        columns: columnarBlock(rows, data.features.length, v * 1_000_003 + from),
      };
      for (const store of stores) await store.write(write);
    }
  }
}

/** The raw baselines: the same keys fetched straight through ioredis as Buffers (as the adapter does), left undecoded. */
export function rawSides(redis: Redis, keyPrefix: string): { mget: ReadSide; get: ReadSide } {
  const keysOf = (r: OnlineReadRequest) => {
    const base = RedisOnlineStore.viewKeyBase(keyPrefix, r.view);
    return r.entityKeys.map((k) => base + k);
  };
  return {
    mget: (requests) => {
      const p = redis.pipeline();
      for (const r of requests) p.mgetBuffer(keysOf(r));
      return p.exec();
    },
    get: (requests) => {
      const p = redis.pipeline();
      for (const r of requests) for (const key of keysOf(r)) p.getBuffer(key);
      return p.exec();
    },
  };
}

/** Request `i` of a scenario: random entities (the same for every side), every view. */
export function requestMaker(data: ReadDataset, scenario: ReadScenario): (i: number) => OnlineReadRequest[] {
  // One feature array per view, reused as a compiled read plan would be; reversed so order matters.
  const wanted = featureNames(scenario.perView).reverse();
  return (i) => {
    const next = prng(i + 1);
    const entityKeys = Array.from({ length: scenario.entities }, () => String(Math.floor(next() * data.entities)));
    return data.views.map((view) => ({ view, entityKeys, features: wanted }));
  };
}

/** Fails loudly when the adapters disagree with each other or with what the raw reads found. */
export async function checkSidesAgree(
  stores: OnlineStore[],
  raw: ReadSide,
  make: (i: number) => OnlineReadRequest[],
): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const requests = make(i);
    const [first, ...others] = await Promise.all(stores.map((s) => s.read(requests)));
    for (const other of others) if (!isDeepStrictEqual(first, other)) throw new Error(`adapters disagree on request ${i}`);
    const replies = (await raw(requests)) as [Error | null, (Buffer | null)[]][];
    const rawFound = replies.flatMap(([, values]) => values.map((v) => v !== null));
    const found = (first ?? []).flatMap((r) => r.eventTimes.map((t) => t !== null));
    if (!isDeepStrictEqual(rawFound, found) || !found.every(Boolean))
      throw new Error(`raw and adapter reads differ on request ${i}`);
  }
}

/**
 * Times `requests` sequential reads per side (one at a time: latency, not throughput), in
 * `rounds` rounds whose side order rotates, so drift in machine load falls on every side alike.
 */
export async function timeSides(
  sides: Record<string, ReadSide>,
  make: (i: number) => OnlineReadRequest[],
  opts: { requests: number; warmup: number; rounds: number },
): Promise<Record<string, SideStats>> {
  const names = Object.keys(sides);
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  for (const name of names) for (let i = 0; i < opts.warmup; i++) await sides[name]?.(make(1_000_000 + i));
  const per = Math.ceil(opts.requests / opts.rounds);
  for (let r = 0; r < opts.rounds; r++) {
    for (let s = 0; s < names.length; s++) {
      const name = names[(s + r) % names.length] as string;
      const side = sides[name] as ReadSide;
      const into = samples[name] as number[];
      for (let i = r * per; i < Math.min(opts.requests, (r + 1) * per); i++) {
        const requests = make(i);
        const t0 = performance.now();
        await side(requests);
        into.push(performance.now() - t0);
      }
    }
  }
  return Object.fromEntries(
    names.map((n) => {
      const sorted = (samples[n] as number[]).sort((a, b) => a - b);
      const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
      return [n, { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean }];
    }),
  );
}
