import { createHash } from 'node:crypto';
import type { Definitions, ObjectKind } from './feature-definitions.ts';
import type { FeatureObject } from './feature-stores.ts';

export interface PlannedChange {
  kind: ObjectKind;
  name: string;
  action: 'create' | 'update' | 'delete' | 'unchanged';
  /** Version after apply (the current one for unchanged, the deleted one for delete). */
  version: number;
  spec?: unknown;
  digest?: string;
}

const collections: [ObjectKind, keyof Definitions][] = [
  ['entity', 'entities'],
  ['source', 'sources'],
  ['feature_view', 'feature_views'],
  ['transform', 'transforms'],
  ['feature_service', 'feature_services'],
];

/** JSON with sorted keys, so the digest ignores key order in the files. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const specDigest = (spec: unknown) => `sha256:${createHash('sha256').update(canonical(spec)).digest('hex')}`;

/**
 * Compares desired definitions with what is applied: new objects are created, changed ones get a
 * new version, and objects missing from the files are deleted only when `prune` is set.
 */
export function planApply(desired: Definitions, current: FeatureObject[], prune: boolean): PlannedChange[] {
  const live = new Map(current.map((o) => [`${o.kind}/${o.name}`, o]));
  const changes: PlannedChange[] = [];
  const seen = new Set<string>();
  for (const [kind, key] of collections) {
    for (const spec of desired[key] as { name: string }[]) {
      const id = `${kind}/${spec.name}`;
      seen.add(id);
      const digest = specDigest(spec);
      const prev = live.get(id);
      if (!prev || prev.deletedAt !== null) {
        changes.push({ kind, name: spec.name, action: 'create', version: (prev?.version ?? 0) + 1, spec, digest });
      } else if (prev.digest !== digest) {
        changes.push({ kind, name: spec.name, action: 'update', version: prev.version + 1, spec, digest });
      } else {
        changes.push({ kind, name: spec.name, action: 'unchanged', version: prev.version });
      }
    }
  }
  if (prune) {
    for (const o of current) {
      if (o.deletedAt === null && !seen.has(`${o.kind}/${o.name}`))
        changes.push({ kind: o.kind, name: o.name, action: 'delete', version: o.version });
    }
  }
  return changes;
}

/** Rebuilds Definitions from stored objects (the applied state). */
export function definitionsFrom(objects: FeatureObject[]): Definitions {
  const defs: Definitions = { entities: [], sources: [], feature_views: [], transforms: [], feature_services: [] };
  for (const o of objects) {
    if (o.deletedAt !== null) continue;
    const key = collections.find(([k]) => k === o.kind)?.[1];
    if (key) (defs[key] as unknown[]).push(o.spec);
  }
  return defs;
}
