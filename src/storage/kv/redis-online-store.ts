import type { ChainableCommander, Redis } from 'ioredis';
import { AppError } from '../../core/index.ts';
import { checkReadRequests, checkWriteBatch } from './online-batch.ts';
import {
  decodeFields,
  encodeRow,
  FIELD_SEP,
  type FieldPlan,
  fieldPlan,
  type OnlineValue,
  type RowSchema,
  rowSchema,
  schemaIdOf,
} from './online-row-codec.ts';
import type { OnlineReadRequest, OnlineReadResult, OnlineStore, OnlineWriteBatch } from './online-store.ts';
import { openRedisConnection, type RedisConnection } from './redis-connection.ts';

export interface RedisOnlineStoreOptions {
  url: string;
  /** Every key starts with this (`keel:` by default), so several deployments can share a server. */
  keyPrefix: string;
  /** How long `open()` waits for the first connection; calls fail fast while Redis is down. Default 2000. */
  connectTimeoutMs?: number;
  /** A command not answered within this rejects as UNAVAILABLE. Default 1000. */
  commandTimeoutMs?: number;
}

// Latest event time wins, judged inside Redis so concurrent writers cannot interleave a stale
// row between the read and the write. The stored value starts with its event time (decimal 31
// is the field separator). Per key, so the script is safe on any node that owns the key.
const writeScript = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local stored = tonumber(string.match(cur, '^[^\\031]*'))
  if stored and stored > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

type WritePipeline = ChainableCommander & { keelOnlineWrite(key: string, eventTime: string, value: string): ChainableCommander };

/** Rows per pipeline, and pipelines in flight: the next chunk is encoded while Redis applies the last. */
const chunkRows = 1000;
const inFlight = 2;

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * The scale-out online store. One string key per (view, entity): `<prefix><view>:<entity>` holding
 * `<event time>␟<schema id>␟<values>` in the shared row codec, read with one MGET per view, all
 * in one pipeline. Feature lists live once per view in the hash `<prefix><view>#schemas`.
 * Views are URI-encoded in keys, so no view's keys are a prefix of another's.
 */
export class RedisOnlineStore implements OnlineStore {
  private readonly schemas = new Map<string, RowSchema>();
  private readonly redis: Redis;

  static async open(options: RedisOnlineStoreOptions): Promise<RedisOnlineStore> {
    return new RedisOnlineStore(await openRedisConnection({ ...options, name: 'keel-online-store' }), options.keyPrefix);
  }

  private constructor(
    private readonly connection: RedisConnection,
    private readonly keyPrefix: string,
  ) {
    this.redis = connection.redis;
    this.redis.defineCommand('keelOnlineWrite', { numberOfKeys: 1, lua: writeScript });
  }

  private failure(e: unknown, what: string): AppError {
    return this.connection.failure(e, `online ${what}`);
  }

  /** The key prefix of a view's rows (append the entity key for a row's key). */
  static viewKeyBase(keyPrefix: string, view: string): string {
    return `${keyPrefix}${encodeURIComponent(view)}:`;
  }

  private schemaKey(view: string): string {
    return `${this.keyPrefix}${encodeURIComponent(view)}#schemas`;
  }

  private async exec(pipeline: ChainableCommander, what: string): Promise<unknown[]> {
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (e) {
      throw this.failure(e, what);
    }
    if (!replies) throw new AppError('UNAVAILABLE', `redis online ${what}: pipeline discarded`);
    return replies.map(([err, reply]) => {
      if (err) throw this.failure(err, what);
      return reply;
    });
  }

  async write(batch: OnlineWriteBatch): Promise<void> {
    checkWriteBatch(batch);
    const { view, features, entityKeys, eventTimes, columns } = batch;
    if (entityKeys.length === 0) return;
    const schemaId = schemaIdOf(features);
    this.schemas.set(`${view}\0${schemaId}`, rowSchema(features));
    const base = RedisOnlineStore.viewKeyBase(this.keyPrefix, view);
    const header = `${FIELD_SEP}${schemaId}${FIELD_SEP}`;
    // Settled promises (error or null), so a chunk failing while an earlier one is awaited is never unhandled.
    const window: Promise<AppError | null>[] = [];
    const send = (p: ChainableCommander) =>
      window.push(
        this.exec(p, 'write').then(
          () => null,
          (e: AppError) => e,
        ),
      );
    let pipeline = this.redis.pipeline() as WritePipeline;
    // The feature list goes first on the same connection, so no reader sees a row before its schema.
    pipeline.hset(this.schemaKey(view), schemaId, JSON.stringify(features));
    let failure: AppError | null = null;
    for (let i = 0; i < entityKeys.length && !failure; i++) {
      const eventTime = String(eventTimes[i]);
      pipeline.keelOnlineWrite(base + entityKeys[i], eventTime, eventTime + header + encodeRow(columns, i));
      if ((i + 1) % chunkRows === 0 || i === entityKeys.length - 1) {
        send(pipeline);
        pipeline = this.redis.pipeline() as WritePipeline;
        if (window.length >= inFlight) failure = (await window.shift()) ?? null;
      }
    }
    for (const settled of await Promise.all(window)) failure ??= settled;
    if (failure) throw failure;
  }

  async read(requests: OnlineReadRequest[]): Promise<OnlineReadResult[]> {
    checkReadRequests(requests);
    const results = requests.map(({ entityKeys, features }) => ({
      eventTimes: new Array<number | null>(entityKeys.length).fill(null),
      values: entityKeys.map(() => new Array<OnlineValue>(features.length).fill(null)),
    }));
    const sent = requests.filter((r) => r.entityKeys.length > 0);
    if (sent.length === 0) return results;
    const pipeline = this.redis.pipeline();
    for (const r of sent) {
      const base = RedisOnlineStore.viewKeyBase(this.keyPrefix, r.view);
      pipeline.mget(r.entityKeys.map((k) => base + k));
    }
    const replies = (await this.exec(pipeline, 'read')) as (string | null)[][];
    const unknown: { request: OnlineReadRequest; result: OnlineReadResult; row: number; text: string; schemaId: string }[] = [];
    let s = 0;
    requests.forEach((request, q) => {
      const result = results[q];
      if (request.entityKeys.length === 0 || !result) return;
      const rows = replies[s++] ?? [];
      const plans = new Map<string, FieldPlan>();
      rows.forEach((text, row) => {
        const schemaId = text === null ? null : this.decode(request, plans, text, result, row);
        if (schemaId !== null) unknown.push({ request, result, row, text: text as string, schemaId });
      });
    });
    // A schema written by another process: fetched once (a second round trip), then cached.
    if (unknown.length > 0) {
      await this.loadSchemas(unknown);
      for (const u of unknown) this.decode(u.request, new Map(), u.text, u.result, u.row);
    }
    return results;
  }

  /** Decodes one stored value into `result`; returns the schema id when that schema is not known here yet. */
  private decode(request: OnlineReadRequest, plans: Map<string, FieldPlan>, text: string, result: OnlineReadResult, row: number) {
    const a = text.indexOf(FIELD_SEP);
    const b = text.indexOf(FIELD_SEP, a + 1);
    if (a < 0 || b < 0) return null; // not a row of ours: reads as absent
    const schemaId = text.slice(a + 1, b);
    let plan = plans.get(schemaId);
    if (!plan) {
      const schema = this.schemas.get(`${request.view}\0${schemaId}`);
      if (!schema) return schemaId;
      plan = fieldPlan(schema, request.features);
      plans.set(schemaId, plan);
    }
    result.eventTimes[row] = Number(text.slice(0, a));
    decodeFields(text, b + 1, plan, result.values[row] as OnlineValue[]);
    return null;
  }

  private async loadSchemas(rows: readonly { request: OnlineReadRequest; schemaId: string }[]): Promise<void> {
    const wanted = new Map<string, Set<string>>();
    for (const { request, schemaId } of rows) wanted.set(request.view, (wanted.get(request.view) ?? new Set()).add(schemaId));
    const pipeline = this.redis.pipeline();
    const asked = [...wanted].map(([view, ids]) => ({ view, ids: [...ids] }));
    for (const { view, ids } of asked) pipeline.hmget(this.schemaKey(view), ...ids);
    const replies = (await this.exec(pipeline, 'read')) as (string | null)[][];
    asked.forEach(({ view, ids }, i) => {
      ids.forEach((id, k) => {
        const features = replies[i]?.[k];
        // A row whose schema is gone belongs to a view being deleted; it stays unknown and reads as absent.
        if (features) this.schemas.set(`${view}\0${id}`, rowSchema(JSON.parse(features) as string[]));
      });
    });
  }

  async deleteView(view: string): Promise<void> {
    // The schema goes first: from then on no reader decodes the view's remaining rows.
    for (const key of this.schemas.keys()) if (key.startsWith(`${view}\0`)) this.schemas.delete(key);
    const match = `${globEscape(RedisOnlineStore.viewKeyBase(this.keyPrefix, view))}*`;
    try {
      await this.redis.unlink(this.schemaKey(view));
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        if (keys.length > 0) await this.redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch (e) {
      throw this.failure(e, 'deleteView');
    }
  }

  ping(): Promise<boolean> {
    return this.connection.ping();
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
