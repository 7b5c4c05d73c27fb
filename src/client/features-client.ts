import type { HttpClient } from './http.ts';

export interface MaterializeJobView {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  views: { view: string; written: number; total: number; done: boolean }[];
  error: string | null;
  end: number;
}

export interface OnlineFeaturesView {
  features: string[];
  rows: { values: (number | string | boolean | null)[]; statuses: string[]; eventTimes: (number | null)[] }[];
}

/** The feature store endpoints, as `keel.features`. */
export class FeaturesApi {
  constructor(
    private readonly http: HttpClient,
    private readonly project: string,
  ) {}

  apply(definitions: unknown, opts: { prune?: boolean; dryRun?: boolean } = {}) {
    return this.http.json<{ applied: boolean; changes: { kind: string; name: string; action: string; version: number }[] }>(
      'POST',
      'api/v1/features/apply',
      { json: { definitions, project: this.project, ...opts } },
    );
  }

  objects() {
    return this.http.json<{
      objects: { kind: string; name: string; version: number; deletedAt: number | null; createdAt: number }[];
    }>('GET', 'api/v1/features/objects', { query: { project: this.project } });
  }

  online(req: { service?: string; features?: string[]; entities: Record<string, unknown>[]; maxAge?: string | number }) {
    return this.http.json<OnlineFeaturesView>('POST', 'api/v1/features/online', { json: { project: this.project, ...req } });
  }

  historical(req: {
    service: string;
    entities?: Record<string, unknown>[];
    range?: { start: number; end: number };
    timestampColumn?: string;
  }) {
    return this.http.json<{ id: string; rows: number; columns: string[]; featureService: string; download: string }>(
      'POST',
      'api/v1/features/historical',
      { json: { project: this.project, ...req }, timeoutMs: 60 * 60_000 },
    );
  }

  /** The Parquet bytes of a retrieval. */
  async download(id: string): Promise<Uint8Array> {
    const res = await this.http.request('GET', `api/v1/features/retrievals/${encodeURIComponent(id)}`, {
      timeoutMs: 60 * 60_000,
    });
    return new Uint8Array(await res.arrayBuffer());
  }

  materialize(req: { start?: number; end?: number; incremental?: boolean; views?: string[] }) {
    return this.http.json<MaterializeJobView>('POST', 'api/v1/features/materialize', { json: { project: this.project, ...req } });
  }

  job(id: string) {
    return this.http.json<MaterializeJobView>('GET', `api/v1/features/materialize/${encodeURIComponent(id)}`);
  }

  push(view: string, rows: Record<string, unknown>[]) {
    return this.http.json<{ written: number }>('POST', 'api/v1/features/push', { json: { project: this.project, view, rows } });
  }

  status() {
    return this.http.json<{
      views: {
        view: string;
        watermark: number | null;
        stalenessMs: number | null;
        maxStalenessMs: number | null;
        stale: boolean;
        rowsWritten: number;
      }[];
    }>('GET', 'api/v1/features/status', { query: { project: this.project } });
  }
}
