/**
 * Who may call what: every /api/v1 operation × every role, plus the ways a key can be wrong.
 *
 * Rules the table encodes (from src/auth/roles.ts and DESIGN.md):
 * - viewer reads; scientist also tracks and registers; deployer also moves aliases and approves
 *   versions for promotion; admin does everything, keys, projects and promotion policies included; predictor reads nothing (only GET /whoami).
 * - A role that lacks the action gets 403 FORBIDDEN, whatever the resource (the role is checked first).
 * - No key, a malformed key, a wrong secret, a revoked or an expired key: 401 UNAUTHENTICATED.
 * - Project scope: a request is checked against the project it addresses (the `project` it
 *   names, else `default`; for an id, the project owning it). A key not scoped to that project
 *   gets 403 FORBIDDEN, the same for a name that exists there and one that does not, so scope
 *   never reveals which names exist. Unknown ids are 404 for everyone. Reads that span projects
 *   (projects, audit, keys, a search without `projects`) answer 2xx but only with the key's
 *   projects. A project named in a request that does not exist at all is 404 NOT_FOUND.
 * - A scoped admin manages only keys confined to its own projects: it cannot mint a `*` key or a
 *   key for another project, nor list or revoke keys that reach beyond its scope (403).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Role, roles } from '../../src/auth/index.ts';
import {
  type ApiRequest,
  type ApiResponse,
  errorOf,
  type Fixtures,
  freshName,
  jsonOf,
  sampleDigest,
  seedFixtures,
} from '../helpers/api-fixtures.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

type Access = 'self' | 'read' | 'track' | 'register' | 'alias' | 'approve' | 'admin' | 'materialize' | 'online';
/** How a key of an allowed role but scoped to another project is answered. */
type Scope = 'project' | 'spanning';

const allowedRoles: Record<Access, readonly Role[]> = {
  self: roles,
  read: ['viewer', 'scientist', 'deployer', 'admin'],
  track: ['scientist', 'admin'],
  register: ['scientist', 'admin'],
  alias: ['deployer', 'admin'],
  approve: ['deployer', 'admin'],
  admin: ['admin'],
  materialize: ['scientist', 'deployer', 'admin'],
  online: ['viewer', 'scientist', 'deployer', 'admin', 'predictor'],
};

type Prepared = Omit<ApiRequest, 'key' | 'method'>;

interface Row {
  /** `METHOD /path` exactly as in /api/openapi.json. */
  op: string;
  access: Access;
  scope: Scope;
  /** Builds the request against fresh state, so rows and roles never depend on one another. */
  prepare(f: Fixtures): Promise<Prepared>;
}

const v1 = '/api/v1';
const octet = (body: Buffer): Prepared['body'] => body;

async function freshRun(f: Fixtures, extra: Record<string, unknown> = {}) {
  return (await f.seed.startRun(f.experiment.name, extra)).id;
}

const featureRows: Row[] = [
  {
    op: 'POST /api/v1/features/apply',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/features/apply`, json: { definitions: f.features.definitions, dryRun: true } }),
  },
  {
    op: 'GET /api/v1/features/objects',
    access: 'read',
    scope: 'project',
    prepare: async () => ({ path: `${v1}/features/objects` }),
  },
  {
    op: 'POST /api/v1/features/online',
    access: 'online',
    scope: 'project',
    prepare: async (f) => ({
      path: `${v1}/features/online`,
      json: { service: f.features.service, entities: [{ origin: 'ATL', destination: 'ORD' }] },
    }),
  },
  {
    op: 'POST /api/v1/features/historical',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({
      path: `${v1}/features/historical`,
      json: {
        service: f.features.service,
        entities: [{ origin: 'ATL', destination: 'ORD', event_timestamp: '2001-01-01T12:00:00Z' }],
      },
    }),
  },
  {
    op: 'GET /api/v1/features/retrievals/{id}',
    access: 'read',
    scope: 'spanning',
    prepare: async (f) => ({ path: `${v1}/features/retrievals/${f.features.retrievalId}` }),
  },
  {
    op: 'POST /api/v1/features/materialize',
    access: 'materialize',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/features/materialize`, json: { views: [f.features.view] } }),
  },
  {
    op: 'GET /api/v1/features/materialize/{id}',
    access: 'read',
    scope: 'spanning',
    prepare: async (f) => ({ path: `${v1}/features/materialize/${f.features.jobId}` }),
  },
  {
    op: 'POST /api/v1/features/push',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({
      path: `${v1}/features/push`,
      json: { view: f.features.view, rows: [{ origin: 'ATL', destination: 'ORD', event_timestamp: Date.now(), delay: 3 }] },
    }),
  },
  {
    op: 'GET /api/v1/features/status',
    access: 'read',
    scope: 'project',
    prepare: async () => ({ path: `${v1}/features/status` }),
  },
];

/** A one-row dataset of unique content, registered by the admin; its version id. */
async function freshDataset(f: Fixtures): Promise<{ name: string; id: string }> {
  const name = freshName('ds');
  const res = await f.seed.admin('POST', `${v1}/datasets`, { name, source: { query: `SELECT '${name}' AS x` } });
  return { name, id: jsonOf<{ id: string }>(res).id };
}

async function freshContract(f: Fixtures): Promise<string> {
  const name = freshName('ct');
  await f.seed.admin('POST', `${v1}/datasets/contracts`, { yaml: `name: ${name}\nfields: { x: { type: string } }` });
  return name;
}

const datasetRows: Row[] = [
  {
    op: 'POST /api/v1/datasets',
    access: 'register',
    scope: 'project',
    prepare: async () => {
      const name = freshName('ds');
      return { path: `${v1}/datasets`, json: { name, source: { query: `SELECT '${name}' AS x` } } };
    },
  },
  { op: 'GET /api/v1/datasets', access: 'read', scope: 'project', prepare: async () => ({ path: `${v1}/datasets` }) },
  {
    op: 'GET /api/v1/datasets/{name}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/datasets/${(await freshDataset(f)).name}` }),
  },
  {
    op: 'GET /api/v1/datasets/versions/{id}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/datasets/versions/${(await freshDataset(f)).id}` }),
  },
  {
    op: 'GET /api/v1/datasets/versions/{id}/profile',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/datasets/versions/${(await freshDataset(f)).id}/profile` }),
  },
  {
    op: 'POST /api/v1/datasets/validate',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({
      path: `${v1}/datasets/validate`,
      json: { version: (await freshDataset(f)).id, contractYaml: 'name: c\nfields: { x: { type: string, required: true } }' },
    }),
  },
  {
    op: 'POST /api/v1/datasets/contracts',
    access: 'register',
    scope: 'project',
    prepare: async () => ({
      path: `${v1}/datasets/contracts`,
      json: { yaml: `name: ${freshName('ct')}\nfields: { x: { type: int } }` },
    }),
  },
  {
    op: 'GET /api/v1/datasets/contracts',
    access: 'read',
    scope: 'project',
    prepare: async () => ({ path: `${v1}/datasets/contracts` }),
  },
  {
    op: 'GET /api/v1/datasets/contracts/{name}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/datasets/contracts/${await freshContract(f)}` }),
  },
];

const gatePolicy = 'protected_aliases: [champion]\nchecks: { approvals: 1 }\n';

const promotionRows: Row[] = [
  {
    op: 'PUT /api/v1/models/{name}/policy',
    access: 'admin',
    scope: 'project',
    prepare: async (f) => {
      const name = freshName('mdl');
      await f.seed.registerVersion(name, f.uploadDigest);
      return { path: `${v1}/models/${name}/policy`, json: { yaml: gatePolicy } };
    },
  },
  {
    op: 'GET /api/v1/models/{name}/policy',
    access: 'read',
    scope: 'project',
    prepare: async (f) => {
      const name = freshName('mdl');
      await f.seed.registerVersion(name, f.uploadDigest);
      await f.seed.admin('PUT', `${v1}/models/${name}/policy`, { yaml: gatePolicy });
      return { path: `${v1}/models/${name}/policy` };
    },
  },
  {
    // Versions are registered by the seeding admin key, so no role key under test is the proposer.
    op: 'POST /api/v1/models/{name}/versions/{ref}/approvals',
    access: 'approve',
    scope: 'project',
    prepare: async (f) => {
      const name = freshName('mdl');
      const { version } = await f.seed.registerVersion(name, f.uploadDigest);
      return { path: `${v1}/models/${name}/versions/${version}/approvals`, json: { alias: 'champion' } };
    },
  },
  {
    op: 'GET /api/v1/models/{name}/versions/{ref}/gates',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/models/${f.model.name}/versions/${f.model.version}/gates?alias=champion` }),
  },
];

/** A pipeline of one command step, applied by the admin in `default`. */
async function pipelineWith(f: Fixtures, run: string): Promise<string> {
  const name = freshName('pl')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-');
  await f.seed.admin('POST', `${v1}/pipelines`, { spec: { name, steps: [{ name: 'only', kind: 'command', params: { run } }] } });
  return name;
}

async function pipelineRun(f: Fixtures, run: string, settle: boolean): Promise<string> {
  const name = await pipelineWith(f, run);
  const started = jsonOf<{ id: string }>(await f.seed.admin('POST', `${v1}/pipelines/${name}/runs`, {}, [202]));
  for (let i = 0; settle && i < 200; i++) {
    const r = jsonOf<{ status: string }>(await f.seed.admin('GET', `${v1}/pipeline-runs/${started.id}`));
    if (r.status !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return started.id;
}

const pipelineRows: Row[] = [
  {
    op: 'POST /api/v1/pipelines',
    access: 'track',
    scope: 'project',
    prepare: async () => ({
      path: `${v1}/pipelines`,
      json: { spec: { name: 'perm', steps: [{ name: 'a', kind: 'command', params: { run: 'true' } }] } },
    }),
  },
  { op: 'GET /api/v1/pipelines', access: 'read', scope: 'project', prepare: async () => ({ path: `${v1}/pipelines` }) },
  {
    op: 'GET /api/v1/pipelines/{name}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/pipelines/${await pipelineWith(f, 'true')}` }),
  },
  {
    op: 'POST /api/v1/pipelines/{name}/runs',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/pipelines/${await pipelineWith(f, 'true')}/runs`, json: {} }),
  },
  {
    op: 'GET /api/v1/pipelines/{name}/runs',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/pipelines/${await pipelineWith(f, 'true')}/runs` }),
  },
  {
    op: 'GET /api/v1/pipeline-runs/{id}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/pipeline-runs/${await pipelineRun(f, 'true', true)}` }),
  },
  {
    op: 'POST /api/v1/pipeline-runs/{id}/resume',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/pipeline-runs/${await pipelineRun(f, 'exit 1', true)}/resume`, json: {} }),
  },
  {
    op: 'POST /api/v1/pipeline-runs/{id}/cancel',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/pipeline-runs/${await pipelineRun(f, 'sleep 30', false)}/cancel`, json: {} }),
  },
  {
    op: 'POST /api/v1/events',
    access: 'track',
    scope: 'project',
    prepare: async () => ({ path: `${v1}/events`, json: { topic: 'permission.test' } }),
  },
];

/** A deployment of the fixture model in `default`, switched once so it can roll back. */
async function deploymentOf(f: Fixtures): Promise<string> {
  const name = freshName('dep')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-');
  const spec = { model: f.model.name, ref: { alias: f.model.alias } };
  await f.seed.admin('PUT', `${v1}/deployments/${name}`, spec);
  await f.seed.admin('PUT', `${v1}/deployments/${name}`, { ...spec, ref: { version: f.model.version } });
  return name;
}

const deploymentRows: Row[] = [
  {
    op: 'PUT /api/v1/deployments/{name}',
    access: 'alias',
    scope: 'project',
    prepare: async (f) => ({
      path: `${v1}/deployments/${freshName('dep').toLowerCase()}`,
      json: { model: f.model.name, ref: { alias: f.model.alias } },
    }),
  },
  { op: 'GET /api/v1/deployments', access: 'read', scope: 'project', prepare: async () => ({ path: `${v1}/deployments` }) },
  {
    op: 'GET /api/v1/deployments/{name}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/deployments/${await deploymentOf(f)}` }),
  },
  {
    op: 'POST /api/v1/deployments/{name}/rollback',
    access: 'alias',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/deployments/${await deploymentOf(f)}/rollback`, json: {} }),
  },
];

/** A logged prediction in `default`: the fixture model (x: 3 numbers) behind a fresh deployment. */
async function loggedPrediction(f: Fixtures): Promise<string> {
  const name = (await deploymentOf(f)).replace(/^dep-/, 'pred-');
  await f.seed.admin('PUT', `${v1}/deployments/${name}`, { model: f.model.name, ref: { version: f.model.version } });
  const res = await f.api.request({
    method: 'POST',
    path: `/v1/deployments/${name}/predict`,
    key: f.adminKey,
    json: { record: { x: [1, 2, 3] } },
  });
  return jsonOf<{ request_id: string }>(res).request_id;
}

const inferenceLogRows: Row[] = [
  {
    op: 'POST /api/v1/inference-log/query',
    access: 'admin',
    scope: 'spanning',
    prepare: async () => ({ path: `${v1}/inference-log/query`, json: { sql: 'SELECT count(*) AS n FROM inference_log' } }),
  },
  {
    op: 'POST /api/v1/inference-log/{requestId}/replay',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/inference-log/${await loggedPrediction(f)}/replay`, json: {} }),
  },
];

const table: Row[] = [
  ...inferenceLogRows,
  ...deploymentRows,
  ...pipelineRows,
  ...featureRows,
  ...promotionRows,
  ...datasetRows,
  { op: 'GET /api/v1/whoami', access: 'self', scope: 'spanning', prepare: async () => ({ path: `${v1}/whoami` }) },
  {
    op: 'POST /api/v1/projects',
    access: 'admin',
    scope: 'spanning',
    prepare: async () => ({ path: `${v1}/projects`, json: { name: freshName('p') } }),
  },
  { op: 'GET /api/v1/projects', access: 'read', scope: 'spanning', prepare: async () => ({ path: `${v1}/projects` }) },
  {
    op: 'POST /api/v1/keys',
    access: 'admin',
    scope: 'project',
    prepare: async () => ({ path: `${v1}/keys`, json: { role: 'viewer', projects: ['default'] } }),
  },
  { op: 'GET /api/v1/keys', access: 'admin', scope: 'spanning', prepare: async () => ({ path: `${v1}/keys` }) },
  {
    op: 'DELETE /api/v1/keys/{id}',
    access: 'admin',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/keys/${(await f.seed.createKey('viewer', ['default'])).id}` }),
  },
  { op: 'GET /api/v1/audit', access: 'read', scope: 'spanning', prepare: async () => ({ path: `${v1}/audit?limit=5` }) },
  {
    op: 'POST /api/v1/experiments',
    access: 'track',
    scope: 'project',
    prepare: async () => ({ path: `${v1}/experiments`, json: { name: freshName('exp') } }),
  },
  { op: 'GET /api/v1/experiments', access: 'read', scope: 'project', prepare: async () => ({ path: `${v1}/experiments` }) },
  {
    op: 'GET /api/v1/experiments/{id}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/experiments/${f.experiment.id}` }),
  },
  {
    op: 'POST /api/v1/runs',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/runs`, json: { experiment: f.experiment.name } }),
  },
  { op: 'GET /api/v1/runs', access: 'read', scope: 'project', prepare: async () => ({ path: `${v1}/runs` }) },
  {
    op: 'POST /api/v1/runs/search',
    access: 'read',
    scope: 'project',
    prepare: async () => ({ path: `${v1}/runs/search`, json: { projects: ['default'] } }),
  },
  { op: 'GET /api/v1/runs/{id}', access: 'read', scope: 'project', prepare: async (f) => ({ path: `${v1}/runs/${f.run.id}` }) },
  {
    op: 'PATCH /api/v1/runs/{id}',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/runs/${await freshRun(f)}`, json: { status: 'FINISHED' } }),
  },
  {
    op: 'POST /api/v1/runs/{id}/log',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({
      path: `${v1}/runs/${await freshRun(f)}/log`,
      json: { metrics: [{ key: 'acc', value: 0.9 }], params: [{ key: 'k', value: 'v' }] },
    }),
  },
  {
    op: 'POST /api/v1/runs/{id}/inputs',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/runs/${await freshRun(f)}/inputs`, json: { inputs: [{ digest: sampleDigest }] } }),
  },
  {
    op: 'DELETE /api/v1/runs/{id}/tags/{key}',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/runs/${await freshRun(f, { tags: [{ key: 'doomed', value: '1' }] })}/tags/doomed` }),
  },
  {
    op: 'GET /api/v1/runs/{id}/metrics/{key}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/runs/${f.run.id}/metrics/${f.run.metricKey}` }),
  },
  {
    op: 'PUT /api/v1/runs/{id}/artifacts/{*}',
    access: 'track',
    scope: 'project',
    prepare: async (f) => ({
      path: `${v1}/runs/${await freshRun(f)}/artifacts/out/notes.txt`,
      body: octet(Buffer.from('notes')),
      contentType: 'application/octet-stream',
    }),
  },
  {
    op: 'GET /api/v1/runs/{id}/artifacts/{*}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/runs/${f.run.id}/artifacts/${f.run.artifactPath}` }),
  },
  {
    op: 'GET /api/v1/runs/{id}/artifacts',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/runs/${f.run.id}/artifacts` }),
  },
  {
    // Uploads are content-addressed blobs owned by no project; registering one is what is scoped.
    op: 'POST /api/v1/uploads',
    access: 'register',
    scope: 'spanning',
    prepare: async (f) => ({ path: `${v1}/uploads`, body: octet(f.onnx), contentType: 'application/octet-stream' }),
  },
  {
    op: 'POST /api/v1/models',
    access: 'register',
    scope: 'project',
    prepare: async () => ({ path: `${v1}/models`, json: { name: freshName('mdl') } }),
  },
  { op: 'GET /api/v1/models', access: 'read', scope: 'project', prepare: async () => ({ path: `${v1}/models` }) },
  {
    op: 'GET /api/v1/models/{name}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/models/${f.model.name}` }),
  },
  {
    op: 'GET /api/v1/models/{name}/versions',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/models/${f.model.name}/versions` }),
  },
  {
    op: 'POST /api/v1/models/{name}/versions',
    access: 'register',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/models/${freshName('mdl')}/versions`, json: { source: { upload: f.uploadDigest } } }),
  },
  {
    op: 'GET /api/v1/models/{name}/versions/{ref}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/models/${f.model.name}/versions/${f.model.version}` }),
  },
  {
    op: 'GET /api/v1/models/{name}/versions/{ref}/artifact',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/models/${f.model.name}/versions/${f.model.alias}/artifact` }),
  },
  {
    op: 'PUT /api/v1/models/{name}/aliases/{alias}',
    access: 'alias',
    scope: 'project',
    prepare: async (f) => {
      const name = freshName('mdl');
      const { version } = await f.seed.registerVersion(name, f.uploadDigest);
      return { path: `${v1}/models/${name}/aliases/staging`, json: { version, reason: 'permission test' } };
    },
  },
  {
    op: 'DELETE /api/v1/models/{name}/aliases/{alias}',
    access: 'alias',
    scope: 'project',
    prepare: async (f) => {
      const m = await f.seed.modelWithAlias(f.uploadDigest, 'retired');
      return { path: `${v1}/models/${m.name}/aliases/${m.alias}` };
    },
  },
  {
    op: 'GET /api/v1/models/{name}/aliases/{alias}',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/models/${f.model.name}/aliases/${f.model.alias}` }),
  },
  {
    op: 'GET /api/v1/models/{name}/alias-history',
    access: 'read',
    scope: 'project',
    prepare: async (f) => ({ path: `${v1}/models/${f.model.name}/alias-history` }),
  },
];

/** `2xx`, or `<status> <code>` for errors: compact enough to diff a whole row at once. */
function outcome(res: ApiResponse): string {
  if (res.status >= 200 && res.status < 300) return '2xx';
  return `${res.status} ${errorOf(res)?.code ?? `(no error body: ${res.raw.toString('utf8').slice(0, 80)})`}`;
}

const methodOf = (row: Row) => row.op.split(' ')[0] as string;

describe('permissions', () => {
  let keel: TestKeel;
  let f: Fixtures;

  beforeAll(async () => {
    keel = await startTestKeel();
    f = await seedFixtures(keel.url, keel.adminKey as string);
  });
  afterAll(async () => {
    f?.api.close();
    await keel?.dispose();
  });

  const send = async (row: Row, key: string | undefined, prepared?: Prepared, headers?: Record<string, string>) =>
    f.api.request({ method: methodOf(row), key, ...(prepared ?? (await row.prepare(f))), ...(headers ? { headers } : {}) });

  it('has one row for every operation in the OpenAPI document, and no other', async () => {
    const doc = jsonOf<{ paths: Record<string, Record<string, unknown>> }>(
      await f.api.request({ method: 'GET', path: '/api/openapi.json' }),
    );
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(table.map((r) => r.op).sort()).toEqual(documented.sort());
  });

  it('serves probes, metrics and the OpenAPI document without a key', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/openapi.json']) {
      const res = await f.api.request({ method: 'GET', path });
      expect(res.status, path).toBe(200);
      const garbage = await f.api.request({ method: 'GET', path, key: 'not-a-key' });
      expect(garbage.status, `${path} with a junk key`).toBe(200);
    }
  });

  describe.each(table)('$op', (row) => {
    it('answers each role by its permissions (2xx allowed, 403 FORBIDDEN otherwise)', async () => {
      const actual: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const role of roles) {
        actual[role] = outcome(await send(row, f.keys[role]));
        expected[role] = allowedRoles[row.access].includes(role) ? '2xx' : '403 FORBIDDEN';
      }
      expect(actual).toEqual(expected);
    });

    it('refuses missing, malformed, unknown, revoked and expired keys with 401 UNAUTHENTICATED', async () => {
      const prepared = await row.prepare(f);
      // Same key id, one hex digit of the secret changed.
      const wrongSecret = f.keys.admin.slice(0, -1) + (f.keys.admin.endsWith('0') ? '1' : '0');
      const cases: Record<string, () => Promise<ApiResponse>> = {
        'no key': () => send(row, undefined, prepared),
        'malformed key': () => send(row, 'keel_not-a-real-key', prepared),
        'not a bearer': () => send(row, undefined, prepared, { authorization: `Basic ${f.keys.admin}` }),
        'wrong secret': () => send(row, wrongSecret, prepared),
        'revoked key': () => send(row, f.revokedKey, prepared),
        'expired key': () => send(row, f.expiredKey, prepared),
      };
      const actual: Record<string, string> = {};
      for (const [label, call] of Object.entries(cases)) actual[label] = outcome(await call());
      expect(actual).toEqual(Object.fromEntries(Object.keys(cases).map((k) => [k, '401 UNAUTHENTICATED'])));
    });

    it('applies project scope to keys of allowed roles scoped to another project', async () => {
      const actual: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const role of allowedRoles[row.access]) {
        actual[role] = outcome(await send(row, f.otherKeys[role]));
        expected[role] = row.scope === 'spanning' ? '2xx' : '403 FORBIDDEN';
      }
      expect(actual).toEqual(expected);
    });
  });

  describe('project scope', () => {
    it('a scoped key sees only its own projects in reads that span projects', async () => {
      const key = f.otherKeys.viewer;
      const projects = jsonOf<{ projects: { name: string }[] }>(
        await f.api.request({ method: 'GET', path: `${v1}/projects`, key }),
      );
      expect(projects.projects.map((p) => p.name)).toEqual([f.projects.other.name]);

      const audit = jsonOf<{ events: { projectId: string | null }[] }>(
        await f.api.request({ method: 'GET', path: `${v1}/audit?limit=1000`, key }),
      );
      expect(audit.events.length).toBeGreaterThan(0);
      expect(new Set(audit.events.map((e) => e.projectId))).toEqual(new Set([f.projects.other.id]));

      await f.seed.startRun(freshName('exp'), {}, f.projects.other.name);
      const search = jsonOf<{ runs: { projectId: string }[] }>(
        await f.api.request({ method: 'POST', path: `${v1}/runs/search`, key, json: {} }),
      );
      expect(search.runs.length).toBeGreaterThan(0);
      expect(new Set(search.runs.map((r) => r.projectId))).toEqual(new Set([f.projects.other.id]));
    });

    it('works in the key’s own project when the request names it', async () => {
      const key = f.otherKeys.viewer;
      const q = `?project=${f.projects.other.name}`;
      const model = await f.api.request({ method: 'GET', path: `${v1}/models/${f.otherModel.name}${q}`, key });
      expect(model.status).toBe(200);
      expect(jsonOf<{ aliases: Record<string, number> }>(model).aliases).toEqual({ champion: f.otherModel.version });
      const created = await f.api.request({
        method: 'POST',
        path: `${v1}/experiments${q}`,
        key: f.otherKeys.scientist,
        json: { name: freshName('exp') },
      });
      expect(created.status).toBe(201);
      expect(jsonOf<{ projectId: string }>(created).projectId).toBe(f.projects.other.id);
    });

    it('answers 403 alike for names that exist and names that do not in a project the key cannot see', async () => {
      const key = f.otherKeys.viewer;
      for (const name of [f.model.name, freshName('missing')]) {
        const res = await f.api.request({ method: 'GET', path: `${v1}/models/${name}?project=default`, key });
        expect(outcome(res), name).toBe('403 FORBIDDEN');
      }
    });

    it('answers 404 for ids that do not exist, whatever the key’s scope', async () => {
      for (const key of [f.keys.viewer, f.otherKeys.viewer]) {
        const res = await f.api.request({ method: 'GET', path: `${v1}/runs/run_doesnotexist0000`, key });
        expect(outcome(res)).toBe('404 NOT_FOUND');
      }
    });

    it('a scoped admin lists only keys within its scope and mints keys for its own project', async () => {
      const listed = jsonOf<{ keys: { projects: string[] }[] }>(
        await f.api.request({ method: 'GET', path: `${v1}/keys`, key: f.otherKeys.admin }),
      );
      expect(listed.keys.length).toBeGreaterThan(0);
      expect(new Set(listed.keys.flatMap((k) => k.projects))).toEqual(new Set([f.projects.other.id]));
      const minted = await f.api.request({
        method: 'POST',
        path: `${v1}/keys`,
        key: f.otherKeys.admin,
        json: { role: 'viewer', projects: [f.projects.other.name] },
      });
      expect(minted.status).toBe(201);
      const { id } = jsonOf<{ id: string }>(minted);
      const revoked = await f.api.request({ method: 'DELETE', path: `${v1}/keys/${id}`, key: f.otherKeys.admin });
      expect(jsonOf<{ status: string }>(revoked).status).toBe('revoked');
    });

    it('a scoped admin cannot mint a key wider than its own scope', async () => {
      for (const projects of [['*'], ['default'], ['default', f.projects.other.name]]) {
        const res = await f.api.request({
          method: 'POST',
          path: `${v1}/keys`,
          key: f.otherKeys.admin,
          json: { role: 'admin', projects },
        });
        expect(outcome(res), projects.join(',')).toBe('403 FORBIDDEN');
      }
    });
  });
});
