/**
 * A seeded fuzzer over every operation in /api/openapi.json, on SQLite and (when reachable) on
 * Postgres. Whatever arrives, the server must answer without a 5xx, with a well-formed error body
 * on every 4xx, and keep serving afterwards.
 *
 * The seed is printed; rerun a failure with KEEL_FUZZ_SEED=<seed>. Requests are generated up
 * front from the seed and the seeded fixtures (never from responses), so a seed names the same
 * requests each time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiRequest,
  type ApiResponse,
  type Backend,
  errorShapeProblem,
  type Fixtures,
  jsonOf,
  postgresSkipReason,
  seedFixtures,
  startTestKeelOn,
} from '../helpers/api-fixtures.ts';
import type { TestKeel } from '../helpers/test-keel.ts';

const concurrency = 8;
const seed = Number(process.env.KEEL_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const pgSkip = await postgresSkipReason();

/** sfc32: small, fast, and good enough to spread inputs; seeded from one 32-bit number. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

interface Operation {
  method: string;
  /** OpenAPI template, e.g. /api/v1/runs/{id}/metrics/{key}. */
  path: string;
  query: string[];
}

interface Pools {
  runIds: string[];
  experimentIds: string[];
  modelNames: string[];
  keyIds: string[];
  digests: string[];
  projectNames: string[];
  /** Page tokens the server issued during setup, for the fuzzer to tamper with. */
  searchTokens: { orderBy: string[]; token: string }[];
}

const unicode = ['ü', 'ß', '日本語', '🚀', '\u200b', '\u202e', 'Ω≈ç√', 'e\u0301', '\ud83d\ude00x'];
const nasty = [
  '..',
  '.',
  '../..',
  'a/../b',
  '%00',
  'a%00b',
  '%2e%2e',
  '%2e%2e%2f',
  '%',
  '%zz',
  '%ff',
  '%c0%ae',
  '%u002e',
  '//',
  '\\',
  '%5C',
  "'%20OR%201=1--",
  '%25',
  '_',
  '*',
  '~',
  '0',
  '-1',
  '1e309',
  '99999999999999999999999',
  'NaN',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'run_',
  'exp_',
  'mdl_',
  'prj_',
  'key_',
  'latest',
  'v1',
  // Raw bytes outside ASCII: Node's HTTP parser refuses them before any route sees the request.
  '\u00fc',
  'a\u00ffb',
];
const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json;;;',
  'application/vnd.api+json',
  'application/octet-stream',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zz',
  'image/png',
  '',
  'garbage',
  '*/*',
];
const filterTokens = [
  'metrics.loss',
  'metrics.`a b`',
  'params.lr',
  'tags.team',
  'tags."x.y"',
  'attributes.status',
  'status',
  'start_time',
  'end_time',
  'run_name',
  'nope',
  'x.y',
  '=',
  '!=',
  '<>',
  '<',
  '>=',
  '==',
  '!',
  'like',
  'ILIKE',
  'in',
  'not',
  'and',
  'or',
  '(',
  ')',
  ',',
  '.',
  "'a'",
  "'%'",
  "'_'",
  "'it''s'",
  "'\\'",
  '"q"',
  '`',
  "'",
  '1',
  '-0',
  '1.5e3',
  '1e999',
  '-1e999',
  '99999999999999999999',
  '0x10',
  'NaN',
  'desc',
  'ASC',
  ';',
  '--',
  '/*',
];

function randomText(rng: Rng, max = 40): string {
  const n = rng.int(max) + 1;
  let out = '';
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.7) out += String.fromCharCode(97 + rng.int(26));
    else if (r < 0.8) out += String.fromCharCode(48 + rng.int(10));
    else if (r < 0.9) out += rng.pick(['-', '_', '.', '/', ' ', ':', "'", '"', '%', '\\', '\n', '\t']);
    else out += rng.pick(unicode);
  }
  return out;
}

function randomJson(rng: Rng, depth = 0): unknown {
  const r = rng.int(depth > 3 ? 6 : 9);
  switch (r) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1, 1.5, -0, 2 ** 53, -(2 ** 63), 1e308, -1e308, 5e-324, 123456789012]);
    case 3:
      return randomText(rng);
    case 4:
      return rng.pick(nasty);
    case 5:
      return 'x'.repeat(rng.pick([0, 1, 64, 65, 129, 251, 257, 2001, 5001, 9000]));
    case 6:
      return Array.from({ length: rng.int(5) }, () => randomJson(rng, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      const n = rng.int(5);
      for (let i = 0; i < n; i++) {
        const key = rng.chance(0.7)
          ? rng.pick(['name', 'key', 'value', 'version', 'status', 'source', 'project', 'filter'])
          : randomText(rng, 10);
        obj[key] = randomJson(rng, depth + 1);
      }
      return obj;
    }
  }
}

const filterFields = [
  'metrics.loss',
  'metrics.acc',
  'params.lr',
  'tags.team',
  'start_time',
  'end_time',
  'status',
  'name',
  'run_id',
];
const filterNumbers = ['0', '-1', '1.5', '-0', '1e308', '1e999', '-1e999', '99999999999999999999', '9007199254740993', '.5'];
const filterStrings = ["'a'", "'%'", "'_%'", "'\\\\'", "'日本'", "''", "'RUNNING'", "'it\\'s'", '"dq"'];

/** A filter that is well formed more often than not, so the SQL behind it runs. */
function randomComparison(rng: Rng, depth = 0): string {
  const r = rng.next();
  if (depth < 3 && r < 0.15)
    return `${randomComparison(rng, depth + 1)} ${rng.pick(['and', 'or', 'AND'])} ${randomComparison(rng, depth + 1)}`;
  if (depth < 3 && r < 0.2) return `not ${randomComparison(rng, depth + 1)}`;
  if (depth < 3 && r < 0.25) return `(${randomComparison(rng, depth + 1)})`;
  const value = () => (rng.chance(0.5) ? rng.pick(filterNumbers) : rng.pick(filterStrings));
  const op = rng.pick(['=', '!=', '<', '<=', '>', '>=', 'like', 'ilike', 'in', 'not in']);
  const rhs = op.endsWith('in') ? `(${Array.from({ length: rng.int(3) + 1 }, value).join(', ')})` : value();
  return `${rng.pick(filterFields)} ${op} ${rhs}`;
}

function randomFilter(rng: Rng): string {
  if (rng.chance(0.6)) return randomComparison(rng);
  return Array.from({ length: rng.int(12) + 1 }, () => rng.pick(filterTokens)).join(rng.chance(0.8) ? ' ' : '');
}

function randomOrderBy(rng: Rng): string[] {
  return Array.from({ length: rng.int(3) }, () =>
    rng.chance(0.8) ? `${rng.pick(filterFields)}${rng.pick(['', ' asc', ' DESC'])}` : randomFilter(rng),
  );
}

/** An issued token with its sort values replaced: shaped like a real one, so it gets past decoding. */
function tamperedToken(rng: Rng, pools: Pools): { orderBy: string[]; pageToken: string } {
  const { orderBy, token } = rng.pick(pools.searchTokens);
  const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v: unknown[]; id: unknown };
  if (rng.chance(0.8)) cursor.v = cursor.v.map(() => (rng.chance(0.5) ? randomJson(rng) : rng.pick([1e30, -1, 1.5, 'x', null])));
  if (rng.chance(0.3)) cursor.id = randomJson(rng);
  if (rng.chance(0.2)) cursor.v = cursor.v.slice(1);
  return { orderBy, pageToken: Buffer.from(JSON.stringify(cursor)).toString('base64url') };
}

/** A plausible body for the operation, so that mutations of it get past the first validation. */
function validBody(op: Operation, rng: Rng, pools: Pools): Record<string, unknown> | null {
  const digest = rng.pick(pools.digests);
  const key = `op ${op.method} ${op.path}`;
  const name = `fz-${rng.int(1e9).toString(36)}`;
  const bodies: Record<string, () => Record<string, unknown>> = {
    'op POST /api/v1/projects': () => ({ name, description: randomText(rng) }),
    'op POST /api/v1/keys': () => ({
      role: rng.pick(['viewer', 'scientist', 'deployer', 'admin', 'predictor']),
      projects: [rng.pick(pools.projectNames)],
      ...(rng.chance(0.3) ? { expiresInSeconds: rng.int(1000) + 1 } : {}),
    }),
    'op POST /api/v1/experiments': () => ({ name, project: rng.pick(pools.projectNames) }),
    'op POST /api/v1/runs': () => ({
      experiment: rng.chance(0.5) ? rng.pick(pools.experimentIds) : name,
      params: [{ key: 'lr', value: String(rng.next()) }],
      tags: [{ key: 'team', value: randomText(rng) }],
      inputs: [{ digest }],
      ...(rng.chance(0.3) ? { parentRunId: rng.pick(pools.runIds) } : {}),
    }),
    'op POST /api/v1/runs/search': () => ({
      filter: randomFilter(rng),
      orderBy: randomOrderBy(rng),
      maxResults: rng.int(20) + 1,
      ...(rng.chance(0.3) ? tamperedToken(rng, pools) : {}),
      ...(rng.chance(0.3) ? { projects: [rng.pick(pools.projectNames)] } : {}),
      ...(rng.chance(0.2) ? { experimentIds: [rng.pick(pools.experimentIds)] } : {}),
    }),
    'op PATCH /api/v1/runs/{id}': () => ({ status: rng.pick(['RUNNING', 'FINISHED', 'FAILED', 'KILLED']) }),
    'op POST /api/v1/runs/{id}/log': () => ({
      metrics: Array.from({ length: rng.int(4) }, () => ({
        key: rng.pick(['loss', 'acc', randomText(rng, 8)]),
        value: rng.next(),
        step: rng.int(10),
      })),
      params: [{ key: rng.pick(['lr', 'depth']), value: String(rng.int(3)) }],
      tags: [{ key: 'k', value: randomText(rng) }],
    }),
    'op POST /api/v1/runs/{id}/inputs': () => ({ inputs: [{ digest, name: randomText(rng), context: 'eval' }] }),
    'op POST /api/v1/models': () => ({ name, description: randomText(rng) }),
    'op POST /api/v1/models/{name}/versions': () => ({
      source: rng.chance(0.7)
        ? { upload: digest }
        : { runId: rng.pick(pools.runIds), path: rng.pick(['model/model.onnx', randomText(rng)]) },
      ...(rng.chance(0.4)
        ? {
            signature: {
              inputs: [{ name: 'x', dtype: rng.pick(['float32', 'int64', '??']), shape: [null, rng.int(5)] }],
              outputs: [],
            },
          }
        : {}),
      metrics: { auc: rng.next() },
      lineage: { datasetDigests: [digest], codeVersion: randomText(rng) },
      tags: { owner: randomText(rng) },
    }),
    'op PUT /api/v1/models/{name}/aliases/{alias}': () => ({ version: rng.int(4), reason: randomText(rng) }),
  };
  return bodies[key]?.() ?? null;
}

function mutate(rng: Rng, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(body);
  const keys = Object.keys(out);
  const n = rng.int(3) + 1;
  for (let i = 0; i < n; i++) {
    const r = rng.int(4);
    if (r === 0 && keys.length > 0) out[rng.pick(keys)] = randomJson(rng);
    else if (r === 1 && keys.length > 0) delete out[rng.pick(keys)];
    else if (r === 2) out[rng.pick(['__proto__', 'constructor', 'extra', randomText(rng, 8)])] = randomJson(rng);
    else if (keys.length > 0) {
      const k = rng.pick(keys);
      const v = out[k];
      if (Array.isArray(v) && v.length > 0) v[0] = randomJson(rng);
    }
  }
  return out;
}

function pathValue(rng: Rng, op: Operation, param: string, pools: Pools): string {
  const r = rng.next();
  if (r < 0.55) {
    // A valid value, so requests reach the service rather than stopping at validation.
    if (param === 'id') {
      if (op.path.startsWith('/api/v1/keys')) return rng.pick(pools.keyIds);
      if (op.path.startsWith('/api/v1/experiments')) return rng.pick(pools.experimentIds);
      return rng.pick(pools.runIds);
    }
    if (param === 'name') return rng.pick(pools.modelNames);
    if (param === 'ref') return rng.pick(['1', '2', 'champion', '0', '007']);
    if (param === 'alias') return rng.pick(['champion', 'staging', 'prod']);
    if (param === 'key') return rng.pick(['loss', 'lr', 'team', 'acc']);
    if (param === '*') return rng.pick(['model/model.onnx', 'a/b/c.txt', 'x', `${'deep/'.repeat(rng.int(30) + 1)}f`]);
  }
  if (r < 0.7) return encodeURIComponent(randomText(rng));
  if (r < 0.75) return encodeURIComponent('z'.repeat(rng.pick([65, 129, 251, 1025, 3000])));
  if (r < 0.8) return encodeURIComponent(rng.pick(unicode) + randomText(rng, 5));
  return rng.pick(nasty);
}

function queryString(rng: Rng, op: Operation, pools: Pools): string {
  if (!rng.chance(0.45)) return '';
  const names = [...op.query, 'project', 'limit', 'pageToken', randomText(rng, 6)];
  const parts: string[] = [];
  const n = rng.int(4) + 1;
  for (let i = 0; i < n; i++) {
    const name = rng.pick(names);
    const value = rng.pick([
      () => rng.pick(pools.projectNames),
      () => String(rng.pick([0, 1, -1, 5, 1000, 1001, 25001, 1e21])),
      () => encodeURIComponent(randomText(rng)),
      () => rng.pick(nasty),
      () => encodeURIComponent(randomFilter(rng)),
      () => Buffer.from(JSON.stringify(randomJson(rng))).toString('base64url'),
      () => rng.pick(['2001-01-01T00:00:00Z', '2001-13-45', 'yesterday', '1700000000000']),
      () => '',
    ])();
    parts.push(rng.chance(0.1) ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${value}`);
  }
  return `?${parts.join(rng.chance(0.9) ? '&' : '&&')}`;
}

type BodyPart = Pick<ApiRequest, 'body' | 'contentType'>;

function randomBody(rng: Rng, op: Operation, pools: Pools): BodyPart {
  const json = (v: unknown): BodyPart => ({ body: JSON.stringify(v), contentType: 'application/json' });
  const valid = validBody(op, rng, pools);
  const r = rng.next();
  if (valid && r < 0.35) return json(rng.chance(0.25) ? valid : mutate(rng, valid));
  if (r < 0.5) return json(randomJson(rng));
  if (r < 0.56) {
    const depth = rng.pick([100, 1000, 10000, 100000]);
    const inner = rng.chance(0.5) ? '{"__proto__":{"x":1}}' : '1';
    return rng.chance(0.5)
      ? { body: '['.repeat(depth) + inner + ']'.repeat(depth), contentType: 'application/json' }
      : { body: '{"a":'.repeat(depth) + inner + '}'.repeat(depth), contentType: 'application/json' };
  }
  if (r < 0.62) {
    const raw = rng.pick(['1e999', '-1e999', '123456789012345678901234567890', 'NaN', 'Infinity', '-0', '0e-99999', 'undefined']);
    const base = valid ?? { value: 0 };
    const field = rng.pick(Object.keys(base).concat('value'));
    return { body: JSON.stringify({ ...base, [field]: '__RAW__' }).replace('"__RAW__"', raw), contentType: 'application/json' };
  }
  if (r < 0.7) {
    const text = JSON.stringify(valid ?? randomJson(rng));
    return { body: text.slice(0, rng.int(Math.max(text.length, 1))), contentType: 'application/json' };
  }
  if (r < 0.82) {
    const bytes = Buffer.alloc(rng.int(300));
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
    return { body: bytes, contentType: rng.pick(contentTypes) };
  }
  if (r < 0.9) return { body: '', contentType: rng.pick(contentTypes) };
  if (r < 0.905) return { body: Buffer.alloc(4 * 1024 * 1024 + rng.int(1000) + 1, 0x20), contentType: 'application/json' };
  if (r < 0.95) return { body: JSON.stringify(valid ?? randomJson(rng)), contentType: rng.pick(contentTypes) };
  return {};
}

function generate(rng: Rng, count: number, ops: Operation[], pools: Pools, keys: (string | undefined)[], adminKey: string) {
  const out: { op: Operation; req: ApiRequest }[] = [];
  for (let i = 0; i < count; i++) {
    const op = rng.pick(ops);
    const path =
      op.path.replace(/\{([^}]+)\}/g, (_m, param: string) => pathValue(rng, op, param, pools)) + queryString(rng, op, pools);
    const wantsBody = ['POST', 'PUT', 'PATCH'].includes(op.method) ? rng.chance(0.95) : rng.chance(0.15);
    const body = wantsBody ? randomBody(rng, op, pools) : {};
    const method = rng.chance(0.03) ? rng.pick(['OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'POST']) : op.method;
    const key = rng.chance(0.8) ? adminKey : rng.pick(keys);
    out.push({ op, req: { method, path, key, ...body } });
  }
  return out;
}

function describeRequest(req: ApiRequest): string {
  const body = req.body === undefined ? '' : Buffer.isBuffer(req.body) ? `<${req.body.length} bytes>` : req.body.slice(0, 200);
  return `${req.method} ${req.path.slice(0, 300)} [${req.contentType ?? 'no content-type'}] ${body}`;
}

function fuzzSuite(backend: Backend, requestCount: number): void {
  let keel: TestKeel;
  let f: Fixtures;
  let fuzzAdminKey: string;
  let pools: Pools;
  let ops: Operation[];

  beforeAll(async () => {
    keel = await startTestKeelOn(backend);
    f = await seedFixtures(keel.url, keel.adminKey as string);
    // The fuzzer gets its own admin key: it may revoke keys, and must not revoke the one the final checks use.
    fuzzAdminKey = (await f.seed.createKey('admin', ['*'], { name: 'fuzzer' })).key;
    const sacrificial = await Promise.all([1, 2, 3, 4].map(() => f.seed.createKey('viewer', ['default'])));
    const runs = await Promise.all([1, 2, 3].map(() => f.seed.startRun(f.experiment.name)));
    await f.seed.log(f.run.id, { metrics: [{ key: 'acc', value: 0.7 }] });
    const searchTokens = await Promise.all(
      [['start_time desc'], ['metrics.loss'], ['params.lr desc', 'name'], ['tags.team', 'end_time']].map(async (orderBy) => {
        const res = await f.api.request({
          method: 'POST',
          path: '/api/v1/runs/search',
          key: f.adminKey,
          json: { orderBy, maxResults: 1 },
        });
        return { orderBy, token: jsonOf<{ nextPageToken: string }>(res).nextPageToken };
      }),
    );
    const doc = jsonOf<{ paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> }>(
      await f.api.request({ method: 'GET', path: '/api/openapi.json' }),
    );
    ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, spec]) => ({
        method: method.toUpperCase(),
        path,
        query: (spec.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      })),
    );
    pools = {
      runIds: [f.run.id, ...runs.map((r) => r.id)],
      experimentIds: [f.experiment.id],
      modelNames: [f.model.name, f.model.id, `${f.model.name}x`],
      keyIds: sacrificial.map((k) => k.id),
      digests: [f.uploadDigest, `sha256:${'0'.repeat(64)}`],
      projectNames: ['default', f.projects.other.name, f.projects.other.id, 'nope'],
      searchTokens,
    };
  });
  afterAll(async () => {
    f?.api.close();
    await keel?.dispose();
  });

  it(`survives ${requestCount} random requests across every operation`, async () => {
    console.log(`fuzz [${backend}] seed ${seed} (rerun with KEEL_FUZZ_SEED=${seed})`);
    expect(ops.length).toBeGreaterThanOrEqual(30);
    expect(pools.searchTokens.every((t) => typeof t.token === 'string')).toBe(true);
    const otherKeys = [undefined, 'keel_garbage', f.revokedKey, f.expiredKey, ...Object.values(f.keys), f.otherKeys.admin];
    const requests = generate(new Rng(seed), requestCount, ops, pools, otherKeys, fuzzAdminKey);

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const check = (req: ApiRequest, res: ApiResponse) => {
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500)
        failures.push(`${res.status} for ${describeRequest(req)} → ${res.raw.toString('utf8').slice(0, 300)}`);
      else if (res.status >= 400 && req.method !== 'HEAD') {
        const problem = errorShapeProblem(res);
        if (problem) failures.push(`${res.status} ${problem} for ${describeRequest(req)}`);
      }
    };
    const worker = async () => {
      while (next < requests.length) {
        const { req } = requests[next++] as (typeof requests)[number];
        try {
          check(req, await f.api.request(req));
        } catch (e) {
          failures.push(`no response (${(e as Error).message}) for ${describeRequest(req)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));

    console.log(`fuzz [${backend}] statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    expect(ops.filter((op) => !requests.some((r) => r.op === op)).map((op) => `${op.method} ${op.path}`)).toEqual([]);
    expect(failures.slice(0, 25), `seed ${seed}: ${failures.length} failures`).toEqual([]);

    // Still healthy and still itself afterwards.
    expect((await f.api.request({ method: 'GET', path: '/healthz' })).status).toBe(200);
    const who = await f.api.request({ method: 'GET', path: '/api/v1/whoami', key: f.adminKey });
    expect(who.status).toBe(200);
    expect(jsonOf<{ role: string }>(who).role).toBe('admin');
    const run = await f.api.request({ method: 'GET', path: `/api/v1/runs/${f.run.id}`, key: f.adminKey });
    expect(run.status).toBe(200);
    expect(jsonOf<{ params: { key: string; value: string }[] }>(run).params).toContainEqual({ key: 'lr', value: '0.1' });
  });
}

describe('fuzz [sqlite]', () => fuzzSuite('sqlite', 2400));
// Postgres is stricter about what it binds (bigint ranges, NUL in text), so it finds bugs SQLite forgives.
describe.skipIf(pgSkip !== null)('fuzz [postgres]', () => fuzzSuite('postgres', 1200));
if (pgSkip) console.warn(`skipping the Postgres fuzz: ${pgSkip}`);
