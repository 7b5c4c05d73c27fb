import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/index.ts';
import {
  entityKey,
  MemoryOnlineStore,
  type OnlineStore,
  type OnlineValue,
  type OnlineWriteBatch,
  RedisOnlineStore,
  SqliteOnlineStore,
} from '../../src/storage/index.ts';
import {
  closedPort,
  countKeysUnder,
  deleteKeysUnder,
  redisSkipReason,
  requireRedis,
  stalledRedisServer,
  testKeyPrefix,
  testRedisUrl,
} from '../helpers/redis.ts';

const redisSkip = await redisSkipReason();
if (redisSkip) console.warn(redisSkip);

type Row = [entity: string, eventTime: number, ...values: OnlineValue[]];

/** A columnar batch from readable rows. */
function batch(view: string, features: string[], rows: Row[]): OnlineWriteBatch {
  return {
    view,
    features,
    entityKeys: rows.map((r) => r[0]),
    eventTimes: Float64Array.from(rows, (r) => r[1]),
    columns: features.map((_, f) => rows.map((r) => r[f + 2] as OnlineValue)),
  };
}

interface Adapter {
  name: string;
  skip: string | null;
  open(): Promise<OnlineStore>;
  /** Removes what the suite left behind; returns the keys found (Redis). */
  cleanup(): Promise<number>;
}

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const redisPrefix = testKeyPrefix('online');
const adapters: Adapter[] = [
  { name: 'memory', skip: null, open: async () => new MemoryOnlineStore(), cleanup: async () => 0 },
  {
    name: 'sqlite',
    skip: null,
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'keel-online-'));
      dirs.push(dir);
      return SqliteOnlineStore.open(join(dir, 'online.db'));
    },
    cleanup: async () => 0,
  },
  {
    name: 'redis',
    skip: redisSkip,
    async open() {
      await requireRedis();
      return RedisOnlineStore.open({ url: testRedisUrl, keyPrefix: redisPrefix });
    },
    cleanup: () => deleteKeysUnder(redisPrefix),
  },
];

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== null)(`online store contract [${adapter.name}]`, () => {
    let store: OnlineStore;
    beforeAll(async () => {
      store = await adapter.open();
    });
    afterAll(async () => {
      await store?.close();
      await adapter.cleanup();
    });
    const readOne = async (view: string, keys: string[], features: string[]) => {
      const [result] = await store.read([{ view, entityKeys: keys, features }]);
      return result;
    };

    it('round-trips numbers, strings, booleans and nulls exactly', async () => {
      const features = ['f_float', 'f_int', 'f_str', 'f_bool', 'f_null'];
      const rows: Row[] = [
        ['a', 1_700_000_000_123, 0.1, 42, 'hello', true, null],
        ['b', 1_700_000_000_456, -1 / 3, -(2 ** 53 - 1), '', false, null],
        ['c', 5, 5e-324, 0, 'a\x1fb\n"q" \\ \t', null, null],
        ['d', 6, 1.7976931348623157e308, 7, 's', true, null],
      ];
      const lookalikes = ['t', 'f', 'j"x"', '123', 'null', 'sfoo', '-0'];
      rows.push(...lookalikes.map((s, i): Row => [`l${i}`, 7, null, null, s, null, null]));
      await store.write(batch('rt', features, rows));
      const got = await readOne(
        'rt',
        rows.map((r) => r[0]),
        features,
      );
      expect(got?.eventTimes).toEqual(rows.map((r) => r[1]));
      expect(got?.values).toEqual(rows.map((r) => r.slice(2)));
    });

    it('reads NaN and ±Infinity back as null and -0 as 0', async () => {
      await store.write(
        batch('nonfinite', ['a', 'b', 'c', 'd'], [['e', 1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]]),
      );
      const got = await readOne('nonfinite', ['e'], ['a', 'b', 'c', 'd']);
      expect(got?.values[0]?.slice(0, 3)).toEqual([null, null, null]);
      expect(Object.is(got?.values[0]?.[3], 0)).toBe(true);
    });

    it('reads a missing entity, view or feature as a null event time and null values', async () => {
      await store.write(batch('miss', ['x', 'y'], [['present', 10, 1, 2]]));
      const [known, unknownView] = await store.read([
        { view: 'miss', entityKeys: ['absent', 'present', 'absent'], features: ['y', 'nope'] },
        { view: 'never-written', entityKeys: ['present'], features: ['x'] },
      ]);
      expect(known).toEqual({
        eventTimes: [null, 10, null],
        values: [
          [null, null],
          [2, null],
          [null, null],
        ],
      });
      expect(unknownView).toEqual({ eventTimes: [null], values: [[null]] });
      expect(await store.read([])).toEqual([]);
    });

    it('returns only the requested features, in the requested order', async () => {
      const features = ['f0', 'f1', 'f2', 'f3', 'f4'];
      await store.write(batch('subset', features, [['e', 1, 0, 1, 2, 3, 4]]));
      expect((await readOne('subset', ['e'], ['f3', 'f1']))?.values).toEqual([[3, 1]]);
      expect((await readOne('subset', ['e'], ['f4', 'f0', 'f2', 'f0']))?.values).toEqual([[4, 0, 2, 0]]);
      expect((await readOne('subset', ['e'], []))?.values).toEqual([[]]);
    });

    it('keeps the latest event time: older ignored, equal and newer replace, also within one batch', async () => {
      const f = ['v'];
      const read = async (key: string) => {
        const r = await readOne('lw', [key], f);
        return [r?.eventTimes[0], r?.values[0]?.[0]];
      };
      await store.write(batch('lw', f, [['e', 100, 'first']]));
      await store.write(batch('lw', f, [['e', 99, 'older']]));
      expect(await read('e')).toEqual([100, 'first']);
      await store.write(batch('lw', f, [['e', 100, 'equal']]));
      expect(await read('e')).toEqual([100, 'equal']);
      await store.write(batch('lw', f, [['e', 101, 'newer']]));
      expect(await read('e')).toEqual([101, 'newer']);
      await store.write(
        batch('lw', f, [
          ['d', 5, 'a'],
          ['d', 9, 'latest'],
          ['d', 7, 'b'],
          ['t', 3, 'x'],
          ['t', 3, 'last of ties'],
        ]),
      );
      expect(await read('d')).toEqual([9, 'latest']);
      expect(await read('t')).toEqual([3, 'last of ties']);
    });

    it('replaces a row as a whole: a feature missing from the newer batch reads null', async () => {
      await store.write(batch('whole', ['a', 'b'], [['e', 1, 'a1', 'b1']]));
      await store.write(batch('whole', ['b', 'c'], [['e', 2, 'b2', 'c2']]));
      await store.write(batch('whole', ['a', 'b', 'c'], [['e', 1.5, 'stale', 'stale', 'stale']]));
      await store.write(batch('whole', ['c', 'a'], [['o', 1, 'c-o', 'a-o']]));
      // Rows with different feature lists, interleaved in one read.
      expect(await readOne('whole', ['e', 'o', 'e'], ['a', 'b', 'c'])).toEqual({
        eventTimes: [2, 1, 2],
        values: [
          [null, 'b2', 'c2'],
          ['a-o', null, 'c-o'],
          [null, 'b2', 'c2'],
        ],
      });
    });

    it('reads several views and multi-part entity keys in one call', async () => {
      const route = (o: string, d: string) => entityKey([o, d]);
      await store.write(batch('mv_origin', ['delay'], [[entityKey(['JFK']), 10, 12.5]]));
      await store.write(
        batch(
          'mv_route',
          ['delay', 'n'],
          [
            [route('JFK', 'LAX'), 20, 3.25, 7],
            [entityKey(['JFK', 42]), 21, 1, 1],
          ],
        ),
      );
      const got = await store.read([
        {
          view: 'mv_route',
          entityKeys: [route('LAX', 'JFK'), route('JFK', 'LAX'), entityKey(['JFK', 42])],
          features: ['n', 'delay'],
        },
        { view: 'mv_origin', entityKeys: [], features: ['delay'] },
        { view: 'mv_origin', entityKeys: [entityKey(['JFK']), 'LAX'], features: ['delay'] },
      ]);
      expect(got).toEqual([
        {
          eventTimes: [null, 20, 21],
          values: [
            [null, null],
            [7, 3.25],
            [1, 1],
          ],
        },
        { eventTimes: [], values: [] },
        { eventTimes: [10, null], values: [[12.5], [null]] },
      ]);
    });

    it('deletes one view only, whatever its name has in common with others', async () => {
      const views = ['dv', 'dv_more', 'dv:x', 'dv*', 'dv%3Ax'];
      for (const view of views) await store.write(batch(view, ['v'], [['e', 50, view]]));
      await store.deleteView('dv');
      await store.deleteView('dv*');
      const got = await store.read(views.map((view) => ({ view, entityKeys: ['e'], features: ['v'] })));
      expect(got.map((r) => r.values[0]?.[0])).toEqual([null, 'dv_more', 'dv:x', null, 'dv%3Ax']);
      // Nothing of the old row survives: an older write lands.
      await store.write(batch('dv', ['v'], [['e', 1, 'again']]));
      expect(await readOne('dv', ['e'], ['v'])).toEqual({ eventTimes: [1], values: [['again']] });
    });

    it('writes and reads a 10,000-row batch', async () => {
      const n = 10_000;
      const keys = Array.from({ length: n }, (_, i) => `e${i}`);
      const columns = [keys.map((_, i) => i * 0.5), keys.map((_, i) => `s${i}`), keys.map((_, i) => i % 3 === 0)];
      await store.write({ view: 'big', features: ['x', 'y', 'z'], entityKeys: keys, eventTimes: keys.map((_, i) => i), columns });
      const got = await readOne('big', [...keys, 'missing'], ['z', 'x', 'y']);
      expect(got?.eventTimes).toEqual([...keys.map((_, i) => i), null]);
      expect(got?.values).toEqual([...keys.map((_, i) => [i % 3 === 0, i * 0.5, `s${i}`]), [null, null, null]]);
    });

    it('converges to the same state when batches are replayed or applied in another order', async () => {
      // Rows with equal event times carry equal values, as a rerun of the same source does.
      const f = ['a', 'b'];
      const b1 = batch('', f, [
        ['e1', 10, 1, 'x'],
        ['e2', 10, 2, 'x'],
        ['e3', 30, 3, 'z'],
      ]);
      const b2 = batch('', f, [
        ['e1', 20, 10, 'y'],
        ['e2', 5, 20, 'old'],
        ['e4', 1, 4, 'w'],
        ['e4', 2, 40, 'w2'],
      ]);
      const b3 = batch('', f, [
        ['e3', 25, 30, 'older'],
        ['e1', 20, 10, 'y'],
        ['e5', 7, null, true],
      ]);
      const apply = async (view: string, order: OnlineWriteBatch[]) => {
        for (const b of order) await store.write({ ...b, view });
      };
      await apply('idem_a', [b1, b2, b3, b1, b2, b3]);
      await apply('idem_b', [b3, b1, b2]);
      await apply('idem_c', [b2, b3, b1, b3]);
      const keys = ['e1', 'e2', 'e3', 'e4', 'e5'];
      const got = await store.read(['idem_a', 'idem_b', 'idem_c'].map((view) => ({ view, entityKeys: keys, features: f })));
      const expected = {
        eventTimes: [20, 10, 30, 2, 7],
        values: [
          [10, 'y'],
          [2, 'x'],
          [3, 'z'],
          [40, 'w2'],
          [null, true],
        ],
      };
      expect(got).toEqual([expected, expected, expected]);
    });

    it('keeps unicode in views, entity keys, feature names and values', async () => {
      const view = 'vue_été_🌍';
      const rows: Row[] = [
        ['東京', 1, 'Größe', 'مرحبا بالعالم'],
        [entityKey(['👩‍👩‍👧', 'e\u0301']), 2, '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓', 'e\u0301 ≠ \u00e9'],
      ];
      await store.write(batch(view, ['prix_€', 'नाम'], rows));
      const got = await readOne(
        view,
        rows.map((r) => r[0]),
        ['नाम', 'prix_€'],
      );
      expect(got?.values).toEqual(rows.map((r) => [r[3], r[2]]));
    });

    it('rejects a malformed batch with BAD_REQUEST and writes none of it, and a malformed read', async () => {
      const good = batch(
        'bad',
        ['a', 'b'],
        Array.from({ length: 2500 }, (_, i): Row => [`e${i}`, 1, i, 'ok']),
      );
      const cases: OnlineWriteBatch[] = [
        { ...good, columns: [good.columns[0] ?? [], [...(good.columns[1] ?? []).slice(0, -1), { no: 'objects' } as never]] },
        { ...good, columns: [good.columns[0] ?? []] },
        { ...good, features: ['a', 'a'] },
        { ...good, eventTimes: [...good.eventTimes.slice(0, -1), Number.NaN] },
        { ...good, entityKeys: good.entityKeys.slice(1) },
        { ...good, view: '' },
      ];
      for (const c of cases) await expect(store.write(c)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect((await readOne('bad', ['e0', 'e2499'], ['a']))?.eventTimes).toEqual([null, null]);
      const badRead = [{ view: 'bad', entityKeys: [42 as unknown as string], features: ['a'] }];
      await expect(store.read(badRead)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringMatching(/entityKey/),
      });
    });

    it('answers ping', async () => {
      expect(await store.ping()).toBe(true);
    });
  });
}

describe.skipIf(redisSkip !== null)('redis online store', () => {
  it('keeps every key under its prefix, reads rows another client wrote, and deleteView leaves none', async () => {
    await requireRedis();
    const prefix = testKeyPrefix('online-own');
    const writer = await RedisOnlineStore.open({ url: testRedisUrl, keyPrefix: prefix });
    const reader = await RedisOnlineStore.open({ url: testRedisUrl, keyPrefix: prefix });
    try {
      await writer.write(
        batch(
          'p1',
          ['a'],
          [
            ['x', 1, 1],
            ['y', 1, 2],
          ],
        ),
      );
      await writer.write(batch('p2', ['a', 'b'], [['x', 1, 3, 'w']]));
      expect(await countKeysUnder(prefix)).toBe(3 + 2); // rows, and one feature-list hash per view
      // The reader has never seen these feature lists: it fetches them from Redis.
      expect(await reader.read([{ view: 'p2', entityKeys: ['x'], features: ['b', 'a'] }])).toEqual([
        { eventTimes: [1], values: [['w', 3]] },
      ]);
      await writer.deleteView('p1');
      await writer.deleteView('p2');
      expect(await countKeysUnder(prefix)).toBe(0);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
      await deleteKeysUnder(prefix);
    }
  });
});

describe('redis online store when Redis is not there', () => {
  const probe = [{ view: 'v', entityKeys: ['e'], features: ['f'] }];
  const write = batch('v', ['f'], [['e', 1, 1]]);

  it('fails every call with UNAVAILABLE at once when nothing listens on the port', async () => {
    const store = await RedisOnlineStore.open({ url: `redis://127.0.0.1:${await closedPort()}`, keyPrefix: 'keel-test:down:' });
    try {
      for (const call of [store.read(probe), store.write(write), store.deleteView('v')]) {
        const e = await call.then(
          () => null,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(AppError);
        expect(e).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/not connected/) });
      }
      expect(await store.ping()).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('fails with UNAVAILABLE, not a hang, when a connected server stops answering', async () => {
    const server = await stalledRedisServer();
    const store = await RedisOnlineStore.open({ url: server.url, keyPrefix: 'keel-test:stalled:', commandTimeoutMs: 200 });
    try {
      await expect(store.read(probe)).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(/timed out/i),
      });
      await expect(store.write(write)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(await store.ping()).toBe(false);
    } finally {
      await store.close();
      await server.close();
    }
  });
});
