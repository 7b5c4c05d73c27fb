import { checkReadRequests, checkWriteBatch } from './online-batch.ts';
import { normalizeValue, type OnlineValue } from './online-row-codec.ts';
import type { OnlineReadRequest, OnlineReadResult, OnlineStore, OnlineWriteBatch } from './online-store.ts';

interface StoredRow {
  eventTime: number;
  values: Map<string, OnlineValue>;
}

/** Map-backed online store for unit tests; the same contract suite as SQLite and Redis holds it. */
export class MemoryOnlineStore implements OnlineStore {
  private readonly views = new Map<string, Map<string, StoredRow>>();

  async write(batch: OnlineWriteBatch): Promise<void> {
    checkWriteBatch(batch);
    let rows = this.views.get(batch.view);
    if (!rows) {
      rows = new Map();
      this.views.set(batch.view, rows);
    }
    for (let i = 0; i < batch.entityKeys.length; i++) {
      const key = batch.entityKeys[i] as string;
      const eventTime = batch.eventTimes[i] as number;
      const stored = rows.get(key);
      if (stored && stored.eventTime > eventTime) continue;
      const values = new Map<string, OnlineValue>();
      batch.features.forEach((f, c) => {
        values.set(f, normalizeValue(batch.columns[c]?.[i]));
      });
      rows.set(key, { eventTime, values });
    }
  }

  async read(requests: OnlineReadRequest[]): Promise<OnlineReadResult[]> {
    checkReadRequests(requests);
    return requests.map(({ view, entityKeys, features }) => {
      const rows = this.views.get(view);
      const found = entityKeys.map((k) => rows?.get(k));
      return {
        eventTimes: found.map((row) => row?.eventTime ?? null),
        values: found.map((row) => features.map((f) => row?.values.get(f) ?? null)),
      };
    });
  }

  async deleteView(view: string): Promise<void> {
    this.views.delete(view);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.views.clear();
  }
}
