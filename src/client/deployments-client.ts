import type { HttpClient } from './http.ts';

export type DeploymentRef = { alias: string } | { version: number };

export interface DeploymentView {
  id: string;
  name: string;
  revision: number;
  spec: { model: string; ref: DeploymentRef; options: Record<string, unknown> };
  updatedAt: number;
  updatedBy: string;
  /** The model version the target resolved to when it was written. */
  version?: number;
  revisions?: {
    revision: number;
    spec: DeploymentView['spec'];
    /** The model version the target resolved to (and served) when the revision was written. */
    version: number | null;
    reason: string;
    at: number;
    by: string;
  }[];
}

/** Parses `model@alias`, `model@3` or `model@v3`. */
export function parseModelRef(text: string): { model: string; ref: DeploymentRef } {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) throw new Error(`'${text}' must be model@alias or model@version`);
  const model = text.slice(0, at);
  const ref = text.slice(at + 1);
  const version = /^v?(\d+)$/.exec(ref);
  return { model, ref: version ? { version: Number(version[1]) } : { alias: ref } };
}

/** Deployment endpoints, as `keel.deployments`. */
export class DeploymentsApi {
  constructor(
    private readonly http: HttpClient,
    private readonly project: string,
  ) {}

  deploy(name: string, spec: { model: string; ref: DeploymentRef; options?: Record<string, unknown>; reason?: string }) {
    return this.http.json<DeploymentView>('PUT', `api/v1/deployments/${encodeURIComponent(name)}`, {
      json: { ...spec, project: this.project },
    });
  }

  list() {
    return this.http.json<{ deployments: DeploymentView[] }>('GET', 'api/v1/deployments', { query: { project: this.project } });
  }

  get(name: string) {
    return this.http.json<DeploymentView>('GET', `api/v1/deployments/${encodeURIComponent(name)}`, {
      query: { project: this.project },
    });
  }

  rollback(name: string, opts: { revision?: number; reason?: string } = {}) {
    return this.http.json<DeploymentView>('POST', `api/v1/deployments/${encodeURIComponent(name)}/rollback`, {
      json: { ...opts, project: this.project },
    });
  }
}
