import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient } from '../../src/client/index.ts';
import { errorRegistry } from '../../src/core/index.ts';
import { buildLinearModel } from '../../src/registry/index.ts';
import { type CliResult, repoRoot, runCli } from '../helpers/cli.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

/** A port nothing listens on: bind an ephemeral one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('keel CLI', () => {
  let keel: TestKeel;
  let dir: string;
  let modelFile: string;
  const keys = { admin: '', scientist: '', deployer: '' };
  const ids = { scientist: '', deployer: '', run1: '', run2: '', model: '' };

  const cli = (who: keyof typeof keys, ...args: string[]) => runCli(args, { url: keel.url, key: keys[who] });
  /** Runs a command that must succeed with --json output, and parses stdout. */
  const cliJson = async <T = Record<string, unknown>>(who: keyof typeof keys, ...args: string[]): Promise<T> => {
    const res = await cli(who, ...args);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    return JSON.parse(res.stdout) as T;
  };

  beforeAll(async () => {
    keel = await startTestKeel();
    keys.admin = keel.adminKey ?? '';
    dir = await mkdtemp(join(tmpdir(), 'keel-cli-'));
    modelFile = join(dir, 'model.onnx');
    await writeFile(modelFile, buildLinearModel({ features: 3, weights: [0.5, -1, 2], bias: 0.1, sigmoid: true }));
  });
  afterAll(async () => {
    await keel?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates keys (secret shown once), lists them without secrets, and manages projects', async () => {
    const [sci, dep, project] = await Promise.all([
      cliJson<{ id: string; key: string; role: string }>(
        'admin',
        'keys',
        'create',
        '--role',
        'scientist',
        '--name',
        'sci',
        '--json',
      ),
      cli('admin', 'keys', 'create', '--role', 'deployer', '--expires-in', '1h'),
      cliJson<{ name: string; description: string }>(
        'admin',
        'projects',
        'create',
        'vision',
        '--description',
        'CV models',
        '--json',
      ),
    ]);
    expect(sci.role).toBe('scientist');
    keys.scientist = sci.key;
    ids.scientist = sci.id;
    expect(project).toMatchObject({ name: 'vision', description: 'CV models' });

    expect(dep.code).toBe(0);
    expect(dep.stdout).toMatch(/shown only this once/);
    expect(dep.stdout).toMatch(/role deployer/);
    expect(dep.stdout).toMatch(/expires \d{4}-/);
    keys.deployer = /^ {2}(keel_\S+)$/m.exec(dep.stdout)?.[1] ?? '';
    ids.deployer = /Created key (key_\w+)/.exec(dep.stdout)?.[1] ?? '';
    expect(keys.deployer).not.toBe('');

    const [listing, projects] = await Promise.all([
      cli('admin', 'keys', 'list', '--json'),
      cliJson<{ projects: { name: string }[] }>('admin', 'projects', '--json'),
    ]);
    const listed = JSON.parse(listing.stdout) as { keys: { id: string; role: string }[] };
    expect(listed.keys.map((k) => k.id)).toEqual(expect.arrayContaining([ids.scientist, ids.deployer]));
    expect(listing.stdout).not.toContain(keys.scientist);
    expect(listing.stdout).not.toContain(keys.deployer);
    expect(projects.projects.map((p) => p.name)).toEqual(expect.arrayContaining(['default', 'vision']));
  });

  it('tracks a run from the command line: start, log, artifact, end, show, search', async () => {
    const exp = await cliJson<{ id: string; name: string }>('scientist', 'experiments', 'create', 'churn', '--json');
    expect(exp.name).toBe('churn');
    const started = await cli('scientist', 'runs', 'start', '--experiment', 'churn', '--name', 'first', '--param', 'lr=0.1');
    expect(started.code).toBe(0);
    ids.run1 = started.stdout.trim();
    expect(ids.run1).toMatch(/^run_\w+$/);

    const [logged, artifact, experiments] = await Promise.all([
      cliJson(
        'scientist',
        'runs',
        'log',
        ids.run1,
        '--metric',
        'auc=0.8@1',
        '--metric',
        'auc=0.9@2',
        '--metric',
        'loss=0.3',
        '--param',
        'depth=4',
        '--tag',
        'team=ml',
        '--json',
      ),
      cliJson<{ path: string; size: number }>(
        'scientist',
        'runs',
        'artifact',
        ids.run1,
        modelFile,
        '--path',
        'model/model.onnx',
        '--json',
      ),
      cliJson<{ experiments: { id: string }[] }>('scientist', 'experiments', '--json'),
    ]);
    expect(logged).toEqual({ runId: ids.run1, logged: { metrics: 3, params: 1, tags: 1 } });
    expect(artifact).toMatchObject({ path: 'model/model.onnx', size: (await stat(modelFile)).size });
    expect(experiments.experiments.map((e) => e.id)).toContain(exp.id);
    expect((await cliJson<{ status: string }>('scientist', 'runs', 'end', ids.run1, '--json')).status).toBe('FINISHED');

    // A second, weaker run through the SDK gives search something to tell apart.
    const sdk = new KeelClient({ url: keel.url, apiKey: keys.scientist });
    const run2 = await sdk.startRun({ experiment: 'churn', params: { lr: 0.01 } });
    run2.logMetric('auc', 0.7);
    await run2.end();
    ids.run2 = run2.id;

    const [shown, human] = await Promise.all([
      cliJson<{
        status: string;
        params: { key: string; value: string }[];
        metrics: { key: string; value: number; step: number }[];
        tags: { key: string; value: string }[];
        artifacts: { path: string }[];
      }>('scientist', 'runs', 'show', ids.run1, '--json'),
      cli('scientist', 'runs', 'show', ids.run1),
    ]);
    expect(shown.status).toBe('FINISHED');
    expect(shown.params).toEqual(
      expect.arrayContaining([
        { key: 'lr', value: '0.1' },
        { key: 'depth', value: '4' },
      ]),
    );
    expect(shown.metrics.find((m) => m.key === 'auc')).toMatchObject({ value: 0.9, step: 2 });
    expect(shown.tags).toContainEqual({ key: 'team', value: 'ml' });
    expect(shown.artifacts.map((a) => a.path)).toEqual(['model/model.onnx']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/metrics \(latest\)/);
    expect(human.stdout).toMatch(/model\/model\.onnx/);
    expect(human.stdout).toMatch(/depth\s*│\s*4/);

    type Runs = { runs: { id: string }[]; nextPageToken: string | null };
    const [filtered, paged, listed] = await Promise.all([
      cliJson<Runs>('scientist', 'runs', 'search', '--filter', 'metrics.auc > 0.85', '--json'),
      cliJson<Runs>('scientist', 'runs', 'search', '--order-by', 'metrics.auc ASC', '--max', '1', '--all', '--json'),
      cliJson<Runs>('scientist', 'runs', 'list', '--experiment', 'churn', '--limit', '10', '--json'),
    ]);
    expect(filtered.runs.map((r) => r.id)).toEqual([ids.run1]);
    expect(paged.runs.map((r) => r.id)).toEqual([ids.run2, ids.run1]);
    expect(paged.nextPageToken).toBeNull();
    expect(listed.runs.map((r) => r.id).sort()).toEqual([ids.run1, ids.run2].sort());
  });

  it('registers versions, moves an alias and tells where it pointed at a past time', async () => {
    type Version = { version: number; source: string; runId: string | null; modelId: string; manifest: Record<string, unknown> };
    const v1 = await cliJson<Version>(
      'scientist',
      'models',
      'register',
      'churn',
      '--file',
      modelFile,
      '--metric',
      'auc=0.91',
      '--tag',
      'stage=dev',
      '--json',
    );
    expect(v1).toMatchObject({ version: 1, source: 'upload', manifest: { metrics: { auc: 0.91 }, tags: { stage: 'dev' } } });
    ids.model = v1.modelId;
    const v2 = await cliJson<Version>(
      'scientist',
      'models',
      'register',
      'churn',
      '--run',
      ids.run1,
      '--path',
      'model/model.onnx',
      '--json',
    );
    expect(v2).toMatchObject({ version: 2, source: 'run', runId: ids.run1 });

    const [models, versions, shown] = await Promise.all([
      cliJson<{ models: { name: string; latestVersion: number }[] }>('scientist', 'models', 'list', '--json'),
      // Global options also work before the subcommand.
      cliJson<{ versions: { version: number }[] }>('scientist', '--json', 'models', 'versions', 'churn'),
      cliJson<{ name: string; latestVersion: number; versions: unknown[] }>('scientist', 'models', 'show', 'churn', '--json'),
    ]);
    expect(models.models).toContainEqual(expect.objectContaining({ name: 'churn', latestVersion: 2 }));
    expect(versions.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(shown).toMatchObject({ name: 'churn', latestVersion: 2 });
    expect(shown.versions).toHaveLength(2);

    const first = await cliJson<{ fromVersion: number | null; toVersion: number }>(
      'deployer',
      'models',
      'alias',
      'churn',
      'prod',
      '1',
      '--json',
    );
    expect(first).toMatchObject({ fromVersion: null, toVersion: 1 });
    const second = await cli('deployer', 'models', 'alias', 'churn', 'prod', '2', '--reason', 'better auc');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/prod now points at version 2/);

    type Move = { id: string; at: number; toVersion: number | null; actor: string; reason: string };
    const history = await cliJson<{ moves: Move[] }>('deployer', 'models', 'alias-history', 'churn', '--alias', 'prod', '--json');
    expect(history.moves.map((m) => m.toVersion)).toEqual([1, 2]);
    const [m1, m2] = history.moves as [Move, Move];
    expect(m2).toMatchObject({ actor: ids.deployer, reason: 'better auc' });
    const between = m1.at + Math.floor((m2.at - m1.at) / 2);
    expect(between).toBeLessThan(m2.at);

    const [atJson, atHuman] = await Promise.all([
      cliJson<{ version: number; move: Move }>(
        'admin',
        'models',
        'alias-history',
        'churn',
        '--alias',
        'prod',
        '--at',
        new Date(between).toISOString(),
        '--json',
      ),
      cli('deployer', 'models', 'alias-history', 'churn', '--alias', 'prod', '--at', String(m2.at)),
    ]);
    expect(atJson.version).toBe(1);
    expect(atJson.move.id).toBe(m1.id);
    expect(atHuman.code).toBe(0);
    expect(atHuman.stdout).toMatch(/pointed at version 2/);
    expect(atHuman.stdout).toContain(m2.id);
  });

  it('lists audit events with their actors', async () => {
    type Events = { events: { actor: string; action: string; resourceId: string }[] };
    const [moves, human] = await Promise.all([
      cliJson<Events>('admin', 'audit', '--action', 'model.alias.move', '--json'),
      cli('admin', 'audit', '--actor', ids.scientist, '--resource-type', 'model'),
    ]);
    expect(moves.events).toHaveLength(2);
    for (const e of moves.events) expect(e).toMatchObject({ actor: ids.deployer, resourceId: ids.model });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/model\.version\.create/);
    expect(human.stdout).toContain(ids.scientist);
    expect(human.stdout).not.toMatch(/model\.alias\.move/);
  });

  it('maps failures to the exit codes of the error registry', async () => {
    const revoked = await cliJson<{ id: string }>('admin', 'keys', 'revoke', ids.deployer, '--json');
    expect(revoked.id).toBe(ids.deployer);
    const url = `http://127.0.0.1:${await closedPort()}`;
    const [badKey, forbidden, missing, badPair, unknownCommand, unreachable] = await Promise.all([
      cli('deployer', 'models', 'list', '--json'),
      cli('scientist', 'models', 'alias', 'churn', 'prod', '1', '--json'),
      cli('scientist', 'models', 'show', 'no-such-model', '--json'),
      cli('scientist', 'runs', 'log', ids.run1, '--metric', 'auc'),
      cli('scientist', 'frobnicate', '--json'),
      runCli(['--url', url, 'models', 'list'], { url: keel.url, key: keys.admin }),
    ]);
    const errorCode = (r: CliResult) => (JSON.parse(r.stdout) as { error: { code: string } }).error.code;
    expect([badKey.code, errorCode(badKey)]).toEqual([3, 'UNAUTHENTICATED']);
    expect([forbidden.code, errorCode(forbidden)]).toEqual([4, 'FORBIDDEN']);
    expect([missing.code, errorCode(missing)]).toEqual([5, 'NOT_FOUND']);
    expect(missing.stderr).toMatch(/no-such-model/);
    expect(badPair.code).toBe(2);
    expect(badPair.stderr).toMatch(/expected key=value/);
    expect([unknownCommand.code, errorCode(unknownCommand)]).toEqual([2, 'BAD_REQUEST']);
    expect(unknownCommand.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(unreachable.code).toBe(8);
    expect(unreachable.stderr).toContain(url);
    expect(unreachable.stderr).toMatch(/CONNECTION_FAILED/);
  });

  it('documents every error code with the exit code the registry gives it', async () => {
    const doc = await readFile(join(repoRoot, 'docs/cli.md'), 'utf8');
    const rows = doc.split('\n').filter((line) => /^\| `[A-Z_]+` \|/.test(line));
    const expected = Object.entries(errorRegistry).map(([code, { exit, status }]) => `| \`${code}\` | ${exit} | ${status} |`);
    expect(rows).toEqual(expected);
  });
});
