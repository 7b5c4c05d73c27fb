import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type Role, roles } from '../../src/auth/index.ts';
import { errorRegistry, testServiceEnv } from '../../src/core/index.ts';
import { buildLinearModel } from '../../src/registry/onnx/index.ts';
import { startTestKeel, type TestKeel } from './test-keel.ts';

export interface ApiRequest {
  method: string;
  /** Sent byte for byte (no URL normalisation), so `..`, `//` and `%00` reach the server as written. */
  path: string;
  /** Sent as `Authorization: Bearer <key>`; omit for an anonymous request. */
  key?: string | undefined;
  /** Serialised as the JSON body (content-type application/json unless `contentType` says otherwise). */
  json?: unknown;
  /** A raw body, sent as is; pair it with `contentType`. */
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: unknown;
}

export interface ErrorShape {
  code: string;
  message: string;
  details?: unknown;
}

/** An HTTP client over node:http: fetch would resolve `..` and `.` segments before sending them. */
export class ApiClient {
  // One keep-alive pool per client; close() drops it so the server can shut down without waiting on idle sockets.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(readonly baseUrl: string) {}

  request(req: ApiRequest): Promise<ApiResponse> {
    const url = new URL(this.baseUrl);
    const headers: Record<string, string> = { ...req.headers };
    let payload: Buffer | undefined;
    if (req.json !== undefined) {
      payload = Buffer.from(JSON.stringify(req.json), 'utf8');
      headers['content-type'] = req.contentType ?? 'application/json';
    } else if (req.body !== undefined) {
      payload = Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
      if (req.contentType !== undefined) headers['content-type'] = req.contentType;
    }
    if (payload !== undefined) headers['content-length'] = String(payload.length);
    if (req.key !== undefined) headers.authorization = `Bearer ${req.key}`;
    return new Promise((resolve, reject) => {
      let answered = false;
      const r = httpRequest(
        { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent: this.agent },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body: parseJson(raw) });
          });
        },
      );
      // The server may answer (413, 401) before it has read a large body and then reset the socket.
      r.on('error', (e) => {
        if (!answered) reject(e);
      });
      r.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The `{error:{code,message}}` body, or null when the body does not have that shape. */
export function errorOf(res: ApiResponse): ErrorShape | null {
  const body = res.body as { error?: unknown } | undefined;
  const e = body?.error as Partial<ErrorShape> | undefined;
  if (typeof e !== 'object' || e === null) return null;
  if (typeof e.code !== 'string' || typeof e.message !== 'string') return null;
  return e as ErrorShape;
}

/**
 * Why a response is not a well-formed error, or null when it is: the `{error:{code,message}}`
 * shape, a non-empty message, a code from the error registry, and the status the registry gives that code.
 */
export function errorShapeProblem(res: ApiResponse): string | null {
  const e = errorOf(res);
  if (!e) return `body is not {error:{code,message}}: ${res.raw.toString('utf8').slice(0, 200)}`;
  if (e.message.trim() === '') return `empty message for ${e.code}`;
  if (!Object.hasOwn(errorRegistry, e.code)) return `code '${e.code}' is not in errorRegistry`;
  const want = errorRegistry[e.code as keyof typeof errorRegistry].status;
  if (want !== res.status) return `code ${e.code} maps to ${want} but the response was ${res.status}`;
  return null;
}

export const jsonOf = <T>(res: ApiResponse): T => res.body as T;

/** Throws with the response body when the status is not the expected one (seeding must not fail silently). */
export function expectStatus(res: ApiResponse, ...statuses: number[]): ApiResponse {
  if (!statuses.includes(res.status)) {
    throw new Error(`expected HTTP ${statuses.join('|')}, got ${res.status}: ${res.raw.toString('utf8').slice(0, 500)}`);
  }
  return res;
}

let counter = 0;
/** A name no other call in this process returns, safe as a project, model, experiment or key name. */
export function freshName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A tiny valid ONNX model (y = x·W + b over `features` float inputs). */
export function tinyOnnx(features = 3): Buffer {
  return Buffer.from(buildLinearModel({ features, weights: Array.from({ length: features }, (_, i) => i + 1), bias: 0.5 }));
}

export const sampleDigest = `sha256:${'ab'.repeat(32)}`;

/** Admin-side operations used to prepare state before a request under test. */
export class Seeder {
  constructor(
    readonly api: ApiClient,
    readonly adminKey: string,
  ) {}

  async admin(method: string, path: string, json?: unknown, expect: number[] = [200, 201, 204]) {
    return expectStatus(await this.api.request({ method, path, key: this.adminKey, json }), ...expect);
  }

  async createProject(name = freshName('prj')): Promise<{ id: string; name: string }> {
    return jsonOf(await this.admin('POST', '/api/v1/projects', { name }));
  }

  async createKey(role: Role, projects: string[], extra: { expiresInSeconds?: number; name?: string } = {}) {
    const res = await this.admin('POST', '/api/v1/keys', { role, projects, ...extra });
    return jsonOf<{ id: string; key: string }>(res);
  }

  async revokeKey(id: string): Promise<void> {
    await this.admin('DELETE', `/api/v1/keys/${id}`);
  }

  async createExperiment(name = freshName('exp'), project = 'default') {
    return jsonOf<{ id: string; name: string }>(await this.admin('POST', '/api/v1/experiments', { name, project }));
  }

  async startRun(experiment: string, extra: Record<string, unknown> = {}, project = 'default') {
    return jsonOf<{ id: string; status: string }>(await this.admin('POST', '/api/v1/runs', { experiment, project, ...extra }));
  }

  async log(runId: string, batch: Record<string, unknown>): Promise<void> {
    await this.admin('POST', `/api/v1/runs/${runId}/log`, batch);
  }

  async uploadArtifact(runId: string, path: string, bytes: Buffer) {
    const res = await this.api.request({
      method: 'PUT',
      path: `/api/v1/runs/${runId}/artifacts/${path}`,
      key: this.adminKey,
      body: bytes,
      contentType: 'application/octet-stream',
    });
    return jsonOf<{ path: string; digest: string }>(expectStatus(res, 201));
  }

  async upload(bytes: Buffer): Promise<string> {
    const res = await this.api.request({
      method: 'POST',
      path: '/api/v1/uploads',
      key: this.adminKey,
      body: bytes,
      contentType: 'application/octet-stream',
    });
    return jsonOf<{ digest: string }>(expectStatus(res, 201)).digest;
  }

  async registerVersion(model: string, digest: string, project = 'default') {
    const res = await this.admin('POST', `/api/v1/models/${model}/versions`, { project, source: { upload: digest } });
    return jsonOf<{ version: number; id: string }>(res);
  }

  async moveAlias(model: string, alias: string, version: number, project = 'default') {
    await this.admin('PUT', `/api/v1/models/${model}/aliases/${alias}?project=${project}`, { version });
  }

  /** A model with one version (from `digest`) and `alias` pointing at it. */
  async modelWithAlias(digest: string, alias = 'champion', project = 'default') {
    const name = freshName('mdl');
    const { version } = await this.registerVersion(name, digest, project);
    await this.moveAlias(name, alias, version, project);
    return { name, version, alias };
  }
}

export type RoleKeys = Record<Role, string>;

export interface Fixtures {
  api: ApiClient;
  seed: Seeder;
  adminKey: string;
  projects: { default: { id: string; name: string }; other: { id: string; name: string } };
  /** One key per role, scoped to `default` only. */
  keys: RoleKeys;
  /** One key per role, scoped to `other` only. */
  otherKeys: RoleKeys;
  revokedKey: string;
  expiredKey: string;
  experiment: { id: string; name: string };
  run: { id: string; artifactPath: string; paramKey: string; paramValue: string; metricKey: string; tagKey: string };
  onnx: Buffer;
  uploadDigest: string;
  model: { name: string; id: string; version: number; alias: string };
  /** A model in project `other`, for scope checks from the other side. */
  otherModel: { name: string; version: number; alias: string };
  /** Feature definitions applied in `default` and `other`, over a small CSV source. */
  features: { definitions: unknown; view: string; service: string; retrievalId: string; jobId: string };
}

/** A tiny feature store: one route view over a CSV the test writes. */
export async function featureDefinitions(): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-feat-'));
  const csv = join(dir, 'trips.csv');
  await writeFile(
    csv,
    'ts,origin,destination,delay\n2001-01-01 10:00:00,ATL,ORD,5\n2001-01-01 11:00:00,ATL,ORD,7\n2001-01-01 12:00:00,SFO,LAX,-2\n',
  );
  return {
    entities: [{ name: 'route', join_keys: [{ name: 'origin' }, { name: 'destination' }] }],
    sources: [{ name: 'trips', path: csv, timestamp_field: 'ts' }],
    feature_views: [
      { name: 'route_stats', entities: ['route'], source: 'trips', features: [{ name: 'delay', type: 'float64' }] },
    ],
    feature_services: [{ name: 'svc', features: ['route_stats:*'] }],
  };
}

/**
 * Seeds a running server over its public API. The expired key is created first and the one wait
 * for its expiry overlaps the rest of the seeding, so the whole call costs about a second.
 */
export async function seedFixtures(baseUrl: string, adminKey: string): Promise<Fixtures> {
  const api = new ApiClient(baseUrl);
  const seed = new Seeder(api, adminKey);
  const expired = await seed.createKey('admin', ['*'], { expiresInSeconds: 1, name: 'expired' });
  const expiresAt = Date.now() + 1000;

  const defaultProject = jsonOf<{ projects: { id: string; name: string }[] }>(
    expectStatus(await api.request({ method: 'GET', path: '/api/v1/projects', key: adminKey }), 200),
  ).projects.find((p) => p.name === 'default');
  if (!defaultProject) throw new Error('the default project is missing');
  const other = await seed.createProject(freshName('other'));

  const keyPairs = await Promise.all(
    roles.map(async (role) => {
      const [mine, theirs] = await Promise.all([seed.createKey(role, ['default']), seed.createKey(role, [other.name])]);
      return [role, mine.key, theirs.key] as const;
    }),
  );
  const keys = Object.fromEntries(keyPairs.map(([r, k]) => [r, k])) as RoleKeys;
  const otherKeys = Object.fromEntries(keyPairs.map(([r, , k]) => [r, k])) as RoleKeys;
  const revoked = await seed.createKey('admin', ['*'], { name: 'revoked' });
  await seed.revokeKey(revoked.id);

  const experiment = await seed.createExperiment();
  const run = await seed.startRun(experiment.name, {
    params: [{ key: 'lr', value: '0.1' }],
    tags: [{ key: 'team', value: 'core' }],
  });
  await seed.log(run.id, { metrics: [{ key: 'loss', value: 0.5, step: 0 }] });
  const onnx = tinyOnnx();
  const artifactPath = 'model/model.onnx';
  await seed.uploadArtifact(run.id, artifactPath, onnx);
  const uploadDigest = await seed.upload(onnx);
  const name = freshName('mdl');
  const registered = await seed.registerVersion(name, uploadDigest);
  await seed.moveAlias(name, 'champion', registered.version);
  const modelId = jsonOf<{ id: string }>(
    expectStatus(await api.request({ method: 'GET', path: `/api/v1/models/${name}`, key: adminKey }), 200),
  ).id;
  const otherModel = await seed.modelWithAlias(uploadDigest, 'champion', other.name);

  const definitions = await featureDefinitions();
  for (const project of ['default', other.name]) await seed.admin('POST', '/api/v1/features/apply', { definitions, project });
  const retrieval = jsonOf<{ id: string }>(
    await seed.admin('POST', '/api/v1/features/historical', { service: 'svc', range: { start: 0, end: Date.UTC(2002, 0, 1) } }),
  );
  const job = jsonOf<{ id: string }>(await seed.admin('POST', '/api/v1/features/materialize', {}, [202]));

  const wait = expiresAt - Date.now() + 100;
  if (wait > 0) await sleep(wait);
  return {
    api,
    seed,
    adminKey,
    projects: { default: defaultProject, other },
    keys,
    otherKeys,
    revokedKey: revoked.key,
    expiredKey: expired.key,
    experiment,
    run: { id: run.id, artifactPath, paramKey: 'lr', paramValue: '0.1', metricKey: 'loss', tagKey: 'team' },
    onnx,
    uploadDigest,
    model: { name, id: modelId, version: registered.version, alias: 'champion' },
    otherModel,
    features: { definitions, view: 'route_stats', service: 'svc', retrievalId: retrieval.id, jobId: job.id },
  };
}

async function postgresAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testServiceEnv().postgresUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Null when suites should run against Postgres; otherwise why not. On CI an unreachable server is not a skip. */
export async function postgresSkipReason(): Promise<string | null> {
  try {
    await postgresAdmin('select 1');
    return null;
  } catch (e) {
    return testServiceEnv().ci ? null : `Postgres is unreachable (${(e as Error).message}); set KEEL_TEST_POSTGRES_URL`;
  }
}

/** A fresh, empty Postgres database for one suite; `drop()` removes it. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `keel_test_${randomBytes(6).toString('hex')}`;
  await postgresAdmin(`create database ${name}`);
  const url = new URL(testServiceEnv().postgresUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => postgresAdmin(`drop database if exists ${name} with (force)`) };
}

export type Backend = 'sqlite' | 'postgres';

/** startTestKeel on SQLite, or on a fresh Postgres database that dispose() drops. */
export async function startTestKeelOn(backend: Backend): Promise<TestKeel> {
  if (backend === 'sqlite') return startTestKeel();
  const db = await freshPostgresDatabase();
  try {
    const keel = await startTestKeel({ postgresUrl: db.url });
    return {
      ...keel,
      async dispose() {
        await keel.dispose();
        await db.drop();
      },
    };
  } catch (e) {
    await db.drop();
    throw e;
  }
}
