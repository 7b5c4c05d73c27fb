import { AppError, formatDuration, parseDuration } from '../core/index.ts';
import type { Definitions, EntityDef, FeatureViewDef, SourceDef, TransformDef, ValueType } from './feature-definitions.ts';

export interface JoinKey {
  name: string;
  type: ValueType;
}

export interface CompiledFeature {
  name: string;
  type: ValueType;
  /** SQL over the source row (plain views) or the aggregated column (aggregations). */
  expr: string;
}

export interface CompiledAggregation {
  output: string;
  column: string;
  fn: 'mean' | 'sum' | 'count' | 'min' | 'max' | 'std';
  windowMs: number;
}

export interface CompiledView {
  name: string;
  def: FeatureViewDef;
  source: SourceDef;
  joinKeys: JoinKey[];
  kind: 'plain' | 'aggregate';
  features: CompiledFeature[];
  aggregations: CompiledAggregation[];
  ttlMs: number | null;
  lagMs: number;
  maxStalenessMs: number | null;
}

export interface CompiledService {
  name: string;
  /** Features read from views, in output order. */
  refs: { view: string; feature: string; type: ValueType }[];
  transforms: TransformDef[];
}

/** Definitions with every reference resolved and every derived name computed. */
export interface FeatureCatalog {
  entities: Map<string, EntityDef>;
  sources: Map<string, SourceDef>;
  views: Map<string, CompiledView>;
  transforms: Map<string, TransformDef>;
  services: Map<string, CompiledService>;
}

function byName<T extends { name: string }>(kind: string, items: T[], problems: string[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    if (map.has(item.name)) problems.push(`${kind} '${item.name}' is defined twice`);
    map.set(item.name, item);
  }
  return map;
}

const aggregateType = (fn: CompiledAggregation['fn']): ValueType => (fn === 'count' ? 'int64' : 'float64');

function compileView(
  def: FeatureViewDef,
  entities: Map<string, EntityDef>,
  sources: Map<string, SourceDef>,
  problems: string[],
): CompiledView | null {
  const source = sources.get(def.source);
  if (!source) problems.push(`feature view '${def.name}' uses unknown source '${def.source}'`);
  const joinKeys: JoinKey[] = [];
  for (const e of def.entities) {
    const entity = entities.get(e);
    if (!entity) problems.push(`feature view '${def.name}' uses unknown entity '${e}'`);
    else joinKeys.push(...entity.join_keys);
  }
  const aggregations: CompiledAggregation[] = def.aggregations.flatMap((a) =>
    a.windows.map((w) => {
      const windowMs = parseDuration(w, `window of ${def.name}`);
      // Names keep the window as written (24h stays 24h, not 1d), so they read like the definition.
      const window = typeof w === 'string' ? w : formatDuration(windowMs);
      const output = a.name ? a.name.replace('{window}', window) : `${a.column}_${a.function}_${window}`;
      return { output, column: a.column, fn: a.function, windowMs };
    }),
  );
  const features: CompiledFeature[] =
    def.features.length > 0
      ? def.features.map((f) => ({ name: f.name, type: f.type, expr: f.expr ?? `"${f.name}"` }))
      : aggregations.map((a) => ({ name: a.output, type: aggregateType(a.fn), expr: `"${a.output}"` }));
  const seen = new Set<string>();
  for (const f of features) {
    if (!/^[a-z][a-z0-9_]*$/.test(f.name))
      problems.push(`feature view '${def.name}': output name '${f.name}' is not a valid feature name`);
    if (seen.has(f.name)) problems.push(`feature view '${def.name}' has two features named '${f.name}'`);
    seen.add(f.name);
  }
  if (!source) return null;
  return {
    name: def.name,
    def,
    source,
    joinKeys,
    kind: def.aggregations.length > 0 ? 'aggregate' : 'plain',
    features,
    aggregations,
    ttlMs: def.ttl === undefined ? null : parseDuration(def.ttl, `ttl of ${def.name}`),
    lagMs: parseDuration(def.availability_lag, `availability_lag of ${def.name}`),
    maxStalenessMs: def.max_staleness === undefined ? null : parseDuration(def.max_staleness, `max_staleness of ${def.name}`),
  };
}

/** Resolves references; every problem is reported at once as VALIDATION_FAILED with a list. */
export function compileCatalog(defs: Definitions): FeatureCatalog {
  const problems: string[] = [];
  const entities = byName('entity', defs.entities, problems);
  const sources = byName('source', defs.sources, problems);
  const transforms = byName('transform', defs.transforms, problems);
  byName('feature view', defs.feature_views, problems);
  byName('feature service', defs.feature_services, problems);
  const views = new Map<string, CompiledView>();
  for (const def of defs.feature_views) {
    const v = compileView(def, entities, sources, problems);
    if (v) views.set(v.name, v);
  }
  const services = new Map<string, CompiledService>();
  for (const def of defs.feature_services) {
    const refs: CompiledService['refs'] = [];
    for (const ref of def.features) {
      const [viewName, feature] = ref.split(':') as [string, string];
      const view = views.get(viewName);
      if (!view) {
        problems.push(`feature service '${def.name}' uses unknown feature view '${viewName}'`);
        continue;
      }
      const picked = feature === '*' ? view.features : view.features.filter((f) => f.name === feature);
      if (picked.length === 0) problems.push(`feature service '${def.name}': view '${viewName}' has no feature '${feature}'`);
      for (const f of picked) refs.push({ view: viewName, feature: f.name, type: f.type });
    }
    const outputs = new Set<string>();
    for (const r of refs) {
      const key = `${r.view}__${r.feature}`;
      if (outputs.has(key)) problems.push(`feature service '${def.name}' lists ${r.view}:${r.feature} twice`);
      outputs.add(key);
    }
    const ts: TransformDef[] = [];
    for (const t of def.transforms) {
      const tr = transforms.get(t);
      if (!tr) problems.push(`feature service '${def.name}' uses unknown transform '${t}'`);
      else ts.push(tr);
    }
    services.set(def.name, { name: def.name, refs, transforms: ts });
  }
  if (problems.length > 0) {
    throw new AppError('VALIDATION_FAILED', `feature definitions are invalid: ${problems.join('; ')}`, { problems });
  }
  return { entities, sources, views, transforms, services };
}

/** The column name a service's feature gets in retrieval results: `view__feature`. */
export const outputColumn = (view: string, feature: string) => `${view}__${feature}`;
