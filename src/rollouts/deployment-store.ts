import type { Deployment, DeploymentRevision } from './deployment-types.ts';

export interface DeploymentStore {
  /** Fails with ALREADY_EXISTS for a taken (project, name). */
  create(d: Deployment, first: DeploymentRevision): Promise<void>;
  get(projectId: string, name: string): Promise<Deployment | null>;
  list(projectId: string | null): Promise<Deployment[]>;
  /** Writes the next revision only if the stored one is still `expectedRevision` (else INVALID_STATE). */
  update(d: Deployment, expectedRevision: number, revision: DeploymentRevision): Promise<void>;
  /** Newest first. */
  revisions(deploymentId: string): Promise<DeploymentRevision[]>;
}
