import type { ChainableCommander, Redis } from 'ioredis';
import { type OnlineStore, RedisOnlineStore } from '../../src/storage/index.ts';
import { encodeRows, schemaIdOf } from '../../src/storage/kv/online-row-codec.ts';
import { columnarBlock, entityRange, featureNames } from './data.ts';
import { deleteKeysUnder, usedMemory } from './redis-keys.ts';

export interface MaterializeOptions {
  entities: number;
  features: number;
  /** Rows per write() call, as the materializer's DuckDB batches. */
  batch: number;
  /** Distinct columnar blocks the batches cycle through (keeps data generation out of the timing). */
  blocks: number;
}

export interface MaterializeRun {
  label: string;
  seconds: number;
  rowsPerSecond: number;
  /** Redis used_memory growth per key, bytes (fresh runs only). */
  bytesPerKey: number | null;
}

const eventTime = 1_700_000_000_000;
const view = 'materialize_bench';
const progress = (label: string, done: number, total: number) =>
  process.stderr.write(`\r  ${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows`);

/** Everything both sides write: the same blocks, hence the same bytes per key. */
export function materializeData(o: MaterializeOptions) {
  const features = featureNames(o.features);
  const blocks = Array.from({ length: o.blocks }, (_, k) => columnarBlock(o.batch, o.features, 7919 * (k + 1)));
  const schemaId = schemaIdOf(features);
  const eventTimes = new Float64Array(o.batch).fill(eventTime);
  // The raw side gets its values pre-encoded: its time is pipelined SETs and nothing else.
  const encoded = blocks.map((block) => {
    const { buf, ends } = encodeRows(block, eventTimes, 0, o.batch, schemaId);
    return Array.from({ length: o.batch }, (_, r) => buf.subarray(r === 0 ? 0 : ends[r - 1], ends[r]));
  });
  return { features, blocks, encoded };
}
type Data = ReturnType<typeof materializeData>;

async function timed(
  label: string,
  redis: Redis,
  fresh: boolean,
  total: number,
  body: () => Promise<void>,
): Promise<MaterializeRun> {
  const before = fresh ? await usedMemory(redis) : 0;
  const t0 = performance.now();
  await body();
  const seconds = (performance.now() - t0) / 1000;
  process.stderr.write('\n');
  const bytesPerKey = fresh ? ((await usedMemory(redis)) - before) / total : null;
  return { label, seconds, rowsPerSecond: total / seconds, bytesPerKey };
}

/** `store.write()` batch after batch, each awaited, as `keel materialize` does. */
export function keelMaterialize(store: OnlineStore, redis: Redis, o: MaterializeOptions, d: Data, label: string, fresh: boolean) {
  const eventTimes = new Float64Array(o.batch).fill(eventTime);
  return timed(label, redis, fresh, o.entities, async () => {
    for (let j = 0, from = 0; from < o.entities; j++, from += o.batch) {
      const rows = Math.min(o.batch, o.entities - from);
      const block = d.blocks[j % o.blocks] ?? [];
      await store.write({
        view,
        features: d.features,
        entityKeys: entityRange(from, rows),
        eventTimes: rows === o.batch ? eventTimes : eventTimes.subarray(0, rows),
        columns: rows === o.batch ? block : block.map((c) => c.slice(0, rows)),
      });
      progress(label, from + rows, o.entities);
    }
  });
}

/** Plain pipelined SETs of the same values under a second prefix: 1000 per pipeline, 2 pipelines in flight. */
export function rawMaterialize(redis: Redis, rawPrefix: string, o: MaterializeOptions, d: Data, label: string, fresh: boolean) {
  const base = RedisOnlineStore.viewKeyBase(rawPrefix, view);
  return timed(label, redis, fresh, o.entities, async () => {
    const window: Promise<unknown>[] = [];
    const send = async (p: ChainableCommander) => {
      window.push(p.exec());
      if (window.length >= 2) await window.shift();
    };
    for (let j = 0, from = 0; from < o.entities; j++, from += o.batch) {
      const rows = Math.min(o.batch, o.entities - from);
      const values = d.encoded[j % o.blocks] ?? [];
      const keys = entityRange(from, rows);
      let p = redis.pipeline();
      for (let r = 0; r < rows; r++) {
        p.set(base + keys[r], values[r] as Buffer);
        if ((r + 1) % 1000 === 0 || r === rows - 1) {
          await send(p);
          p = redis.pipeline();
        }
      }
      progress(label, from + rows, o.entities);
    }
    await Promise.all(window);
  });
}

/** Values of `sample` entities under a prefix, for checking both sides stored the same bytes. */
export async function sampleValues(redis: Redis, keyPrefix: string, entities: number): Promise<(Buffer | null)[]> {
  const base = RedisOnlineStore.viewKeyBase(keyPrefix, view);
  const step = Math.max(1, Math.floor(entities / 1000));
  const keys = Array.from({ length: Math.ceil(entities / step) }, (_, i) => base + String(i * step));
  return redis.mgetBuffer(keys);
}

export async function dropMaterialized(store: OnlineStore, redis: Redis, rawPrefix: string): Promise<number> {
  const t0 = performance.now();
  await store.deleteView(view);
  const seconds = (performance.now() - t0) / 1000;
  await deleteKeysUnder(redis, rawPrefix);
  return seconds;
}
