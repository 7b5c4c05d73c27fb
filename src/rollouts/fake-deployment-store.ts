import { AppError } from '../core/index.ts';
import type { DeploymentStore } from './deployment-store.ts';
import type { Deployment, DeploymentRevision } from './deployment-types.ts';

export interface RolloutMemoryState {
  deployments: Map<string, Deployment>;
  revisions: DeploymentRevision[];
}

export const newRolloutMemoryState = (): RolloutMemoryState => ({ deployments: new Map(), revisions: [] });

const copy = <T>(v: T): T => structuredClone(v);
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class FakeDeploymentStore implements DeploymentStore {
  constructor(private readonly state: { rollouts: RolloutMemoryState }) {}

  private get s() {
    return this.state.rollouts;
  }

  async create(d: Deployment, first: DeploymentRevision) {
    if ([...this.s.deployments.values()].some((x) => x.projectId === d.projectId && x.name === d.name)) {
      throw new AppError('ALREADY_EXISTS', `deployment '${d.name}' already exists`);
    }
    this.s.deployments.set(d.id, copy(d));
    this.s.revisions.push(copy(first));
  }

  async get(projectId: string, name: string) {
    return copy([...this.s.deployments.values()].find((d) => d.projectId === projectId && d.name === name) ?? null);
  }

  async list(projectId: string | null) {
    const all = [...this.s.deployments.values()].filter((d) => projectId === null || d.projectId === projectId);
    return copy(all.sort((a, b) => byBytes(a.projectId, b.projectId) || byBytes(a.name, b.name)));
  }

  async update(d: Deployment, expectedRevision: number, revision: DeploymentRevision) {
    const current = this.s.deployments.get(d.id);
    if (!current || current.revision !== expectedRevision) {
      throw new AppError('INVALID_STATE', `deployment '${d.name}' changed meanwhile (revision ${current?.revision}); try again`);
    }
    this.s.deployments.set(d.id, copy(d));
    this.s.revisions.push(copy(revision));
  }

  async revisions(deploymentId: string) {
    return copy(this.s.revisions.filter((r) => r.deploymentId === deploymentId).sort((a, b) => b.revision - a.revision));
  }
}
