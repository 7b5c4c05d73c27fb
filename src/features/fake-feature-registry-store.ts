import { AppError } from '../core/index.ts';
import type { ObjectKind } from './feature-definitions.ts';
import type { FeatureObject, FeatureRegistryStore, ViewState } from './feature-stores.ts';

export interface FeatureMemoryState {
  objects: FeatureObject[];
  states: Map<string, ViewState>;
}

export const newFeatureMemoryState = (): FeatureMemoryState => ({ objects: [], states: new Map() });

const order = (a: FeatureObject, b: FeatureObject) =>
  a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export class FakeFeatureRegistryStore implements FeatureRegistryStore {
  constructor(private readonly h: { features: FeatureMemoryState }) {}

  async listLatest(projectId: string) {
    const latest = new Map<string, FeatureObject>();
    for (const o of this.h.features.objects) {
      if (o.projectId !== projectId) continue;
      const key = `${o.kind}/${o.name}`;
      const prev = latest.get(key);
      if (!prev || o.version > prev.version) latest.set(key, o);
    }
    return [...latest.values()].sort(order).map((o) => structuredClone(o));
  }
  async putVersion(o: FeatureObject) {
    if (
      this.h.features.objects.some(
        (x) => x.projectId === o.projectId && x.kind === o.kind && x.name === o.name && x.version === o.version,
      )
    ) {
      throw new AppError('ALREADY_EXISTS', `${o.kind} '${o.name}' version ${o.version} already exists`);
    }
    this.h.features.objects.push(structuredClone(o));
  }
  async markDeleted(projectId: string, kind: ObjectKind, name: string, version: number, at: number) {
    const o = this.h.features.objects.find(
      (x) => x.projectId === projectId && x.kind === kind && x.name === name && x.version === version,
    );
    if (o) o.deletedAt = at;
  }
  async getVersion(projectId: string, kind: ObjectKind, name: string, version: number) {
    const o = this.h.features.objects.find(
      (x) => x.projectId === projectId && x.kind === kind && x.name === name && x.version === version,
    );
    return o ? structuredClone(o) : null;
  }
  async getState(projectId: string, view: string) {
    const s = this.h.features.states.get(`${projectId}/${view}`);
    return s ? { ...s } : null;
  }
  async listStates(projectId: string) {
    return [...this.h.features.states.entries()]
      .filter(([k]) => k.startsWith(`${projectId}/`))
      .map(([, s]) => ({ ...s }))
      .sort((a, b) => (a.view < b.view ? -1 : 1));
  }
  async putState(projectId: string, s: ViewState) {
    this.h.features.states.set(`${projectId}/${s.view}`, { ...s });
  }
}
