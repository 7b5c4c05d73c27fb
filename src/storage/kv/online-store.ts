/**
 * The online feature store port (DESIGN §2): latest feature values per (feature view, entity),
 * each row stamped with its event timestamp so freshness (TTL) is judged per view at read time.
 */

/** A columnar batch for one view: row i is entity `entityKeys[i]`, its values `columns[f][i]`. */
export interface OnlineWriteBatch {
  view: string;
  /** Feature names, in the order of `columns`. */
  features: string[];
  /** Canonical entity keys (see `entityKey()`), one per row. */
  entityKeys: string[];
  /** Event time of each row, epoch ms. */
  eventTimes: Float64Array | number[];
  /** One array per feature; `null` is a missing value. Numbers, strings or booleans. */
  columns: (number | string | boolean | null)[][];
}

export interface OnlineReadRequest {
  view: string;
  entityKeys: string[];
  /** Features of the view to return, in this order. */
  features: string[];
}

/** Per requested entity: the stored event time (null if absent) and values in feature order. */
export interface OnlineReadResult {
  eventTimes: (number | null)[];
  /** values[e][f] for entity e, feature f; null when the entity or the feature is absent. */
  values: (number | string | boolean | null)[][];
}

export interface OnlineStore {
  /**
   * Writes rows, keeping for each entity the row with the latest event time: a row older than
   * what is stored is ignored, so replays and reruns converge to the same state (idempotent).
   * Each entity's row replaces the previous row as a whole.
   */
  write(batch: OnlineWriteBatch): Promise<void>;
  /** One round trip per call, whatever the number of views and entities. */
  read(requests: OnlineReadRequest[]): Promise<OnlineReadResult[]>;
  /** Removes every row of a view (a view deleted by `keel apply --prune`). */
  deleteView(view: string): Promise<void>;
  /** True when the backing service answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The canonical string for an entity's join-key values, shared by every adapter. */
export function entityKey(values: readonly (string | number | boolean)[]): string {
  return values.length === 1 ? String(values[0]) : JSON.stringify(values);
}
