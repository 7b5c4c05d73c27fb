import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { AppError } from '../../core/index.ts';
import { checkReadRequests, checkWriteBatch } from './online-batch.ts';
import {
  decodeFields,
  encodeRows,
  type FieldPlan,
  FieldPlanCache,
  type OnlineValue,
  type RowSchema,
  rowSchema,
  schemaIdOf,
} from './online-row-codec.ts';
import type { OnlineReadRequest, OnlineReadResult, OnlineStore, OnlineWriteBatch } from './online-store.ts';

// Its own file, apart from the metadata database: materialization writes in bulk and must not
// hold the metadata database's write lock, and the file can be deleted and rebuilt at will.
const schemaSql = [
  `create table if not exists online_schemas (
     view text not null, schema_id integer not null, features text not null,
     primary key (view, schema_id)) without rowid`,
  `create table if not exists online_rows (
     view text not null, entity_key text not null, event_ts real not null, schema_id integer not null, payload blob not null,
     primary key (view, entity_key)) without rowid`,
];

/** The embedded online store: one SQLite table keyed by (view, entity), rows in the compact codec. */
export class SqliteOnlineStore implements OnlineStore {
  private readonly schemas = new Map<string, RowSchema>();
  private readonly plans = new FieldPlanCache();
  private readonly insertSchema;
  private readonly selectSchema;
  private readonly upsertRow;
  private readonly selectRows;
  private readonly writeRows: (batch: OnlineWriteBatch, schemaId: number) => void;
  private readonly deleteRows: (view: string) => void;

  /** Opens (creating if needed) the store at `path`, or a throwaway one for `:memory:`. */
  static open(path: string): SqliteOnlineStore {
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      const db = new SQLite(path);
      // WAL: readers (the serving gateway) never wait for a materialization batch to commit.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      for (const statement of schemaSql) db.exec(statement);
      return new SqliteOnlineStore(db);
    } catch (e) {
      throw new AppError('CONNECTION_FAILED', `cannot open the online store at ${path}: ${(e as Error).message}`);
    }
  }

  private constructor(private readonly db: SQLite.Database) {
    this.insertSchema = db.prepare('insert or ignore into online_schemas (view, schema_id, features) values (?, ?, ?)');
    this.selectSchema = db.prepare('select features from online_schemas where view = ? and schema_id = ?').pluck();
    // Latest event time wins; an equal time replaces, so a rerun rewrites the same row.
    this.upsertRow = db.prepare(
      `insert into online_rows (view, entity_key, event_ts, schema_id, payload) values (?, ?, ?, ?, ?)
       on conflict (view, entity_key) do update
       set event_ts = excluded.event_ts, schema_id = excluded.schema_id, payload = excluded.payload
       where excluded.event_ts >= online_rows.event_ts`,
    );
    // One statement per view for any number of entities; j.key is the request position. CROSS JOIN
    // keeps json_each as the outer loop, so each key is a primary-key lookup, not a scan of the view.
    this.selectRows = db
      .prepare(
        `select j.key, r.event_ts, r.schema_id, r.payload
         from json_each(@keys) as j cross join online_rows as r on r.view = @view and r.entity_key = j.value`,
      )
      .raw();
    // One transaction per batch: a reader sees all of a batch or none of it.
    this.writeRows = db.transaction((batch: OnlineWriteBatch, schemaId: number) => {
      const { view, entityKeys, eventTimes, columns } = batch;
      this.insertSchema.run(view, schemaId, JSON.stringify(batch.features));
      for (let from = 0; from < entityKeys.length; from += 1000) {
        const to = Math.min(entityKeys.length, from + 1000);
        const { buf, ends } = encodeRows(columns, eventTimes, from, to, null);
        for (let i = from, start = 0; i < to; i++) {
          const end = ends[i - from] as number;
          this.upsertRow.run(view, entityKeys[i], eventTimes[i], schemaId, buf.subarray(start, end));
          start = end;
        }
      }
    });
    const deleteRows = db.prepare('delete from online_rows where view = ?');
    const deleteSchemas = db.prepare('delete from online_schemas where view = ?');
    this.deleteRows = db.transaction((view: string) => {
      deleteRows.run(view);
      deleteSchemas.run(view);
    });
  }

  async write(batch: OnlineWriteBatch): Promise<void> {
    checkWriteBatch(batch);
    if (batch.entityKeys.length === 0) return;
    const schemaId = schemaIdOf(batch.features);
    const key = `${batch.view}\0${schemaId}`;
    // The first object stays: read plans are cached per schema object.
    if (!this.schemas.has(key)) this.schemas.set(key, rowSchema(batch.features));
    this.writeRows(batch, schemaId);
  }

  private schema(view: string, schemaId: number): RowSchema | undefined {
    const key = `${view}\0${schemaId}`;
    let schema = this.schemas.get(key);
    if (!schema) {
      const features = this.selectSchema.get(view, schemaId) as string | undefined;
      if (features === undefined) return undefined;
      schema = rowSchema(JSON.parse(features) as string[]);
      this.schemas.set(key, schema);
    }
    return schema;
  }

  async read(requests: OnlineReadRequest[]): Promise<OnlineReadResult[]> {
    checkReadRequests(requests);
    return requests.map(({ view, entityKeys, features }) => {
      const eventTimes: (number | null)[] = new Array(entityKeys.length).fill(null);
      const values = entityKeys.map(() => new Array(features.length).fill(null));
      if (entityKeys.length === 0) return { eventTimes, values };
      const rows = this.selectRows.all({ keys: JSON.stringify(entityKeys), view }) as [number, number, number, Buffer][];
      let lastId = -1;
      let plan: FieldPlan | undefined;
      for (const [i, eventTime, schemaId, payload] of rows) {
        // Rows of a view almost always share one schema: look it up when it changes.
        if (schemaId !== lastId) {
          lastId = schemaId;
          const schema = this.schema(view, schemaId);
          plan = schema && this.plans.get(schema, features);
        }
        if (!plan) continue; // a row whose view is being deleted
        eventTimes[i] = eventTime;
        decodeFields(payload, 0, plan, values[i] as OnlineValue[]);
      }
      return { eventTimes, values };
    });
  }

  async deleteView(view: string): Promise<void> {
    this.deleteRows(view);
  }

  async ping(): Promise<boolean> {
    return this.db.open;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
