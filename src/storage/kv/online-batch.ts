import { AppError } from '../../core/index.ts';
import type { OnlineReadRequest, OnlineWriteBatch } from './online-store.ts';

/**
 * Input checks every adapter runs before touching storage, so a bad batch writes nothing on any
 * backend (Redis writes in chunks and could not take a half-written batch back).
 */
export function checkWriteBatch(batch: OnlineWriteBatch): void {
  const bad = (what: string) => new AppError('BAD_REQUEST', `online write to view '${String(batch.view)}': ${what}`);
  if (typeof batch.view !== 'string' || batch.view === '') throw bad('the view name must be a non-empty string');
  const { features, columns, entityKeys, eventTimes } = batch;
  if (columns.length !== features.length) throw bad(`${features.length} features but ${columns.length} columns`);
  const seen = new Set<string>();
  for (const f of features) {
    if (typeof f !== 'string' || f === '') throw bad('feature names must be non-empty strings');
    if (seen.has(f)) throw bad(`feature '${f}' appears twice`);
    seen.add(f);
  }
  const n = entityKeys.length;
  if (eventTimes.length !== n) throw bad(`${n} entity keys but ${eventTimes.length} event times`);
  for (let i = 0; i < n; i++) {
    if (typeof entityKeys[i] !== 'string') throw bad(`entity key at row ${i} is not a string (use entityKey())`);
    if (!Number.isFinite(eventTimes[i])) throw bad(`event time at row ${i} is not a finite epoch-ms number`);
  }
  for (let f = 0; f < columns.length; f++) {
    const column = columns[f] ?? [];
    if (column.length !== n) throw bad(`column '${features[f]}' has ${column.length} values for ${n} rows`);
    for (let i = 0; i < n; i++) {
      const v = column[i];
      const t = typeof v;
      if (v !== null && v !== undefined && t !== 'number' && t !== 'string' && t !== 'boolean') {
        throw bad(`feature '${features[f]}' row ${i}: ${t} is not a number, string, boolean or null`);
      }
    }
  }
}

export function checkReadRequests(requests: readonly OnlineReadRequest[]): void {
  for (const r of requests) {
    let problem: string | null = null;
    if (typeof r.view !== 'string' || r.view === '') problem = 'the view name must be a non-empty string';
    else if (!r.entityKeys.every(isString)) problem = 'entity keys must be strings (use entityKey())';
    else if (!r.features.every(isString)) problem = 'feature names must be strings';
    if (problem) throw new AppError('BAD_REQUEST', `online read of view '${String(r.view)}': ${problem}`);
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
