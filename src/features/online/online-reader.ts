import { AppError } from '../../core/index.ts';
import { entityKey, type OnlineStore } from '../../storage/index.ts';
import { type CompiledService, type CompiledView, type FeatureCatalog, outputColumn } from '../feature-catalog.ts';
import { applyTransforms, type CompiledTransform } from '../transforms.ts';

export type FeatureStatus = 'PRESENT' | 'NOT_FOUND' | 'OUTSIDE_MAX_AGE';
export type FeatureValue = number | string | boolean | null;

export interface OnlineFeatures {
  /** Output names: `view__feature` for view features, then transform outputs. */
  features: string[];
  rows: { values: FeatureValue[]; statuses: FeatureStatus[]; eventTimes: (number | null)[] }[];
}

/** Everything a read needs, computed once per service version: no definition lookups per request. */
export interface ReadPlan {
  service: string;
  views: { view: CompiledView; features: string[]; columns: number[] }[];
  joinKeys: string[];
  outputs: string[];
  transforms: CompiledTransform[];
}

export function compileReadPlan(catalog: FeatureCatalog, service: CompiledService, transforms: CompiledTransform[]): ReadPlan {
  const views: ReadPlan['views'] = [];
  service.refs.forEach((ref, column) => {
    let entry = views.find((v) => v.view.name === ref.view);
    if (!entry) {
      entry = { view: catalog.views.get(ref.view) as CompiledView, features: [], columns: [] };
      views.push(entry);
    }
    entry.features.push(ref.feature);
    entry.columns.push(column);
  });
  const joinKeys = [...new Set(views.flatMap((v) => v.view.joinKeys.map((k) => k.name)))];
  const outputs = [
    ...service.refs.map((r) => outputColumn(r.view, r.feature)),
    ...transforms.flatMap((t) => t.def.outputs.map((o) => o.name)),
  ];
  return { service: service.name, views, joinKeys, outputs, transforms };
}

/** Why a row's join key for a view cannot be looked up (absent or of the wrong type), or null. */
export function joinKeyProblem(row: Record<string, unknown>, view: CompiledView): { key: string; message: string } | null {
  for (const k of view.joinKeys) {
    const v = row[k.name];
    const ok =
      k.type === 'string'
        ? typeof v === 'string'
        : k.type === 'bool'
          ? typeof v === 'boolean'
          : typeof v === 'number' && Number.isFinite(v);
    if (!ok) return { key: k.name, message: `must be a ${k.type}` };
  }
  return null;
}

function keyOf(row: Record<string, unknown>, view: CompiledView, index: number): string {
  const problem = joinKeyProblem(row, view);
  if (problem) {
    throw new AppError('VALIDATION_FAILED', `entity row ${index}: join key '${problem.key}' ${problem.message}`, {
      row: index,
      key: problem.key,
    });
  }
  return entityKey(view.joinKeys.map((k) => row[k.name] as string | number | boolean));
}

/** The plan's outputs that come from the store (its view features), before the transform outputs. */
export function storedOutputs(plan: ReadPlan): string[] {
  return plan.outputs.slice(
    0,
    plan.views.reduce((n, v) => n + v.features.length, 0),
  );
}

/**
 * The plan's request-time transform outputs for `rows` entities, by output name: `stored` holds
 * the stored feature columns by output name; the transforms' other inputs are the entities' own fields.
 */
export function requestTimeOutputs(
  plan: ReadPlan,
  stored: Map<string, unknown[]>,
  entities: Record<string, unknown>[],
): Map<string, unknown[]> {
  const columns = new Map(stored);
  for (const t of plan.transforms)
    for (const i of t.inputColumns)
      if (!columns.has(i.column))
        columns.set(
          i.column,
          entities.map((e) => e[i.column] ?? null),
        );
  return applyTransforms(plan.transforms, columns, entities.length);
}

/**
 * Reads a service's features for entity rows in one store round trip. A value older than its
 * view's TTL (or the request's max age) is withheld and reported OUTSIDE_MAX_AGE. With
 * `transforms: false` only the stored features are returned (the caller runs the transforms).
 */
export async function readOnlineFeatures(
  store: OnlineStore,
  plan: ReadPlan,
  entities: Record<string, unknown>[],
  opts: { now: number; maxAgeMs?: number; transforms?: boolean },
): Promise<OnlineFeatures> {
  const requests = plan.views.map(({ view, features }) => ({
    view: view.name,
    features,
    entityKeys: entities.map((e, i) => keyOf(e, view, i)),
  }));
  const results = await store.read(requests);
  const width = plan.views.reduce((n, v) => n + v.features.length, 0);
  const rows = entities.map(() => ({
    values: new Array<FeatureValue>(width).fill(null),
    statuses: new Array<FeatureStatus>(width).fill('NOT_FOUND'),
    eventTimes: new Array<number | null>(width).fill(null),
  }));
  plan.views.forEach(({ view, columns }, vi) => {
    const result = results[vi];
    if (!result) return;
    const ttl = opts.maxAgeMs ?? view.ttlMs;
    for (let e = 0; e < entities.length; e++) {
      const at = result.eventTimes[e] ?? null;
      if (at === null) continue;
      const row = rows[e] as (typeof rows)[number];
      const expired = ttl !== null && ttl !== undefined && at < opts.now - ttl;
      columns.forEach((col, f) => {
        row.eventTimes[col] = at;
        row.statuses[col] = expired ? 'OUTSIDE_MAX_AGE' : 'PRESENT';
        row.values[col] = expired ? null : (result.values[e]?.[f] ?? null);
      });
    }
  });
  if (opts.transforms === false) return { features: storedOutputs(plan), rows };
  if (plan.transforms.length > 0) {
    const stored = new Map<string, unknown[]>(storedOutputs(plan).map((name, c) => [name, rows.map((r) => r.values[c])]));
    const outputs = requestTimeOutputs(plan, stored, entities);
    for (const t of plan.transforms) {
      for (const o of t.def.outputs) {
        const col = outputs.get(o.name) ?? [];
        rows.forEach((r, i) => {
          r.values.push((col[i] as FeatureValue) ?? null);
          r.statuses.push('PRESENT');
          r.eventTimes.push(null);
        });
      }
    }
  }
  return { features: plan.outputs, rows };
}
