import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type {
  DatasetProfile,
  DatasetVersion,
  DatasetVersionSummary,
  StoredContract,
  ValidationReport,
} from '../datasets/index.ts';
import { type HttpClient, KeelApiError, type Query } from './http.ts';

export type DatasetVersionInfo = DatasetVersion & { dataset: string; children?: string[] };
export type RegisteredDataset = DatasetVersionInfo & { created: boolean; report: ValidationReport | null };

/** Where data comes from: local or server files (paths or globs), a DuckDB query run by the server, or upload digests. */
export interface DataSource {
  files?: string[];
  query?: string;
  upload?: string[];
}

export interface ContractChoice {
  /** A stored contract: `name` or `name@version`. */
  contract?: string;
  /** Inline YAML (stored on registration). */
  contractYaml?: string;
}

export interface RegisterDatasetOptions extends DataSource, ContractChoice {
  name: string;
  description?: string;
  parents?: string[];
  step?: string;
  runId?: string;
  /** Epoch ms or ISO time that freshness is measured against. */
  asOf?: number | string;
}

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const hasGlob = (p: string) => /[*?[{]/.test(p);

/** Dataset and contract calls; `KeelClient.data`. */
export class DatasetsClient {
  constructor(
    private readonly http: HttpClient,
    private readonly q: (extra?: Query) => Query,
  ) {}

  /** Streams a local file to the server's blob store; returns its digest. */
  async upload(file: string): Promise<string> {
    const size = (await stat(file)).size;
    const up = await this.http.json<{ digest: string }>('POST', 'api/v1/uploads', {
      body: createReadStream(file),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      timeoutMs: 60 * 60_000,
    });
    return up.digest;
  }

  /**
   * The source as the server should see it. Files go by path when the server runs on this machine
   * (it reads them in place, if they are under its allowed roots), otherwise they are uploaded.
   */
  private async sourceOf(src: DataSource, byPath: boolean): Promise<Record<string, unknown>> {
    const given = [src.files, src.query, src.upload].filter((x) => x !== undefined).length;
    if (given !== 1) throw new TypeError('give exactly one of files, query or upload');
    if (src.query !== undefined) return { query: src.query };
    if (src.upload) return { upload: src.upload };
    const files = src.files as string[];
    if (byPath) return { files: files.map((f) => resolve(f)) };
    const globs = files.filter(hasGlob);
    if (globs.length)
      throw new TypeError(`cannot upload a glob (${globs[0]}): name the files, or let a server on this machine read them`);
    return { upload: await Promise.all(files.map((f) => this.upload(f))) };
  }

  /** Sends by path first on a local server; a refused path (outside its roots) falls back to uploading. */
  private async withSource<T>(src: DataSource, send: (source: Record<string, unknown>) => Promise<T>): Promise<T> {
    const local = loopback.has(new URL(this.http.baseUrl).hostname);
    const byPath = local && src.files !== undefined;
    try {
      return await send(await this.sourceOf(src, byPath));
    } catch (e) {
      const uploadable = byPath && (src.files ?? []).every((f) => !hasGlob(f) && existsSync(f));
      if (!(uploadable && e instanceof KeelApiError && e.code === 'INVALID_PATH')) throw e;
      return send(await this.sourceOf(src, false));
    }
  }

  register(opts: RegisterDatasetOptions): Promise<RegisteredDataset> {
    const lineage = {
      ...(opts.parents?.length ? { parents: opts.parents } : {}),
      ...(opts.step ? { step: opts.step } : {}),
      ...(opts.runId ? { runId: opts.runId } : {}),
    };
    return this.withSource(opts, (source) =>
      this.http.json('POST', 'api/v1/datasets', {
        query: this.q(),
        timeoutMs: 60 * 60_000,
        json: {
          name: opts.name,
          source,
          ...(opts.description ? { description: opts.description } : {}),
          ...(opts.contract ? { contract: opts.contract } : {}),
          ...(opts.contractYaml ? { contractYaml: opts.contractYaml } : {}),
          ...(Object.keys(lineage).length ? { lineage } : {}),
          ...(opts.asOf !== undefined ? { asOf: opts.asOf } : {}),
        },
      }),
    );
  }

  /** Checks a version (`version`) or a source against a contract; resolves with the report, pass or fail. */
  validate(opts: DataSource & ContractChoice & { version?: string; asOf?: number | string }): Promise<ValidationReport> {
    const body = {
      ...(opts.contract ? { contract: opts.contract } : {}),
      ...(opts.contractYaml ? { contractYaml: opts.contractYaml } : {}),
      ...(opts.asOf !== undefined ? { asOf: opts.asOf } : {}),
    };
    const post = (json: unknown) =>
      this.http.json<ValidationReport>('POST', 'api/v1/datasets/validate', { query: this.q(), json, timeoutMs: 60 * 60_000 });
    if (opts.version) return post({ version: opts.version, ...body });
    return this.withSource(opts, (source) => post({ source, ...body }));
  }

  list() {
    return this.http.json<{
      datasets: (Record<string, unknown> & { name: string; versions: number; latest: DatasetVersionSummary | null })[];
    }>('GET', 'api/v1/datasets', { query: this.q() });
  }

  get(name: string) {
    return this.http.json<Record<string, unknown> & { name: string; versions: DatasetVersionSummary[] }>(
      'GET',
      `api/v1/datasets/${encodeURIComponent(name)}`,
      { query: this.q() },
    );
  }

  version(id: string) {
    return this.http.json<DatasetVersionInfo>('GET', `api/v1/datasets/versions/${encodeURIComponent(id)}`, { query: this.q() });
  }

  profile(id: string) {
    return this.http.json<DatasetProfile & { version: string; digest: string }>(
      'GET',
      `api/v1/datasets/versions/${encodeURIComponent(id)}/profile`,
      {
        query: this.q(),
      },
    );
  }

  applyContract(yaml: string) {
    return this.http.json<StoredContract & { created: boolean }>('POST', 'api/v1/datasets/contracts', {
      query: this.q(),
      json: { yaml },
    });
  }

  listContracts() {
    return this.http.json<{ contracts: StoredContract[] }>('GET', 'api/v1/datasets/contracts', { query: this.q() });
  }

  getContract(ref: string) {
    return this.http.json<StoredContract>('GET', `api/v1/datasets/contracts/${encodeURIComponent(ref)}`, { query: this.q() });
  }
}
