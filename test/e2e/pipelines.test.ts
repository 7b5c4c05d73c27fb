import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient } from '../../src/client/index.ts';
import { type KeelProcess, spawnKeel } from '../helpers/server-process.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const fixtures = resolve('test/fixtures/pipelines');

describe('pipelines with command steps', () => {
  let keel: TestKeel;
  let client: KeelClient;
  let work: string;

  beforeAll(async () => {
    keel = await startTestKeel();
    client = new KeelClient({ url: keel.url, apiKey: keel.adminKey as string });
    work = await mkdtemp(join(tmpdir(), 'keel-pl-'));
  });
  afterAll(async () => {
    await keel?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  const spec = (scale: number) => ({
    name: 'numbers',
    params: { scale },
    steps: [
      { name: 'make', kind: 'command', params: { run: ['sh', './numbers.sh'], env: { COUNT: 100, RUN_LOG: join(work, 'log') } } },
      {
        name: 'summarize',
        kind: 'command',
        inputs: { numbers: 'make.numbers' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a pipeline param reference, not a JS template
        params: { run: ['python3', './summarize.py'], with: { scale: '${params.scale}' }, outputs: ['scaled'] },
        timeout: '2m',
      },
    ],
  });

  it('runs a Python step whose metrics land in tracking', async () => {
    await client.pipelines.apply(spec(2), fixtures);
    const started = await client.pipelines.run('numbers');
    const run = await client.pipelines.wait(started.id, { intervalMs: 100 });
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    const step = run.steps.find((s) => s.step === 'summarize');
    const tracked = await client.getRun(step?.trackingRunId as string);
    const metric = (k: string) => tracked.metrics.find((m) => m.key === k)?.value;
    // 1..100 scaled by 2: mean 101, population std 2 × 28.866…
    expect(metric('mean')).toBeCloseTo(101, 10);
    expect(metric('count')).toBe(100);
    expect(metric('std')).toBeCloseTo(2 * Math.sqrt((100 * 100 - 1) / 12), 8);
    expect(tracked.parentRunId).toBe(run.trackingRunId);
    const log = await client.downloadArtifact(step?.trackingRunId as string, 'logs/summarize.log');
    expect(log.toString()).toContain('summarized 100 values');
  });

  it('hits the cache when nothing changed and reruns only what a param change reaches', async () => {
    const again = await client.pipelines.wait((await client.pipelines.run('numbers')).id, { intervalMs: 100 });
    expect(again.steps.map((s) => s.status)).toEqual(['cached', 'cached']);
    const changed = await client.pipelines.wait((await client.pipelines.run('numbers', { params: { scale: 3 } })).id, {
      intervalMs: 100,
    });
    expect(changed.steps.map((s) => s.status)).toEqual(['cached', 'succeeded']);
    expect(changed.steps[1]?.explain).toBe('miss: params changed (with)');
    expect((await readFile(join(work, 'log'), 'utf8')).trim().split('\n')).toEqual(['numbers']);
  });

  it('stops a command at its timeout, with the whole process group', async () => {
    const marker = join(work, 'survivor');
    await client.pipelines.apply({
      name: 'slow',
      steps: [{ name: 'sleepy', kind: 'command', timeout: '1s', params: { run: `(sleep 3; touch ${marker}) & sleep 30` } }],
    });
    const run = await client.pipelines.wait((await client.pipelines.run('slow')).id, { intervalMs: 100 });
    expect(run.status).toBe('failed');
    expect(run.steps[0]?.error).toMatch(/timed out after 1000 ms/);
    await new Promise((r) => setTimeout(r, 3500));
    // The background child was in the step's process group: it died with it.
    await expect(readFile(marker)).rejects.toThrow();
  });

  it('reports a failing command with its exit code and output, and a bad param with a 400', async () => {
    await client.pipelines.apply({
      name: 'fails',
      steps: [{ name: 'bad', kind: 'command', params: { run: 'echo oops >&2; exit 3' } }],
    });
    const run = await client.pipelines.wait((await client.pipelines.run('fails')).id, { intervalMs: 100 });
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/command exited with 3[\s\S]*oops/);
    await expect(client.pipelines.run('fails', { params: { nope: 1 } })).rejects.toMatchObject({ status: 400 });
    await expect(
      client.pipelines.apply({ name: 'x', steps: [{ name: 'a', kind: 'command', params: {} }] }),
    ).rejects.toMatchObject({
      status: 400,
    });
  });
});

describe('a pipeline run killed with SIGKILL', () => {
  let dataDir: string;
  let server: KeelProcess | null = null;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keel-pl-kill-'));
  });
  afterAll(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is finished by resume without redoing completed steps', async () => {
    const log = join(dataDir, 'executions.log');
    const go = join(dataDir, 'go');
    server = await spawnKeel(dataDir);
    let client = new KeelClient({ url: server.url, apiKey: server.adminKey });
    await client.pipelines.apply(
      {
        name: 'long',
        steps: [
          { name: 'first', kind: 'command', params: { run: ['sh', './numbers.sh'], env: { RUN_LOG: log } } },
          {
            name: 'second',
            kind: 'command',
            inputs: { numbers: 'first.numbers' },
            params: { run: ['sh', './gate-wait.sh'], env: { RUN_LOG: log, GO_FILE: go } },
          },
          {
            name: 'third',
            kind: 'command',
            needs: ['second'],
            params: { run: ['sh', './gate-wait.sh'], env: { RUN_LOG: log, GO_FILE: go } },
          },
        ],
      },
      fixtures,
    );
    const started = await client.pipelines.run('long');
    for (;;) {
      const r = await client.pipelines.getRun(started.id);
      if (r.steps[1]?.status === 'running' && (await readFile(log, 'utf8').catch(() => '')).includes('second')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.kill();
    await writeFile(go, '');

    server = await spawnKeel(dataDir);
    client = new KeelClient({ url: server.url, apiKey: server.adminKey });
    const interrupted = await client.pipelines.getRun(started.id);
    expect(interrupted.status).toBe('failed');
    expect(interrupted.error).toMatch(/interrupted/);
    expect(interrupted.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'pending']);

    await client.pipelines.resume(started.id);
    const done = await client.pipelines.wait(started.id, { intervalMs: 100 });
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => [s.step, s.status, s.attempts])).toEqual([
      ['first', 'succeeded', 1],
      ['second', 'succeeded', 2],
      ['third', 'succeeded', 1],
    ]);
    // `first` ran once in all; `second` twice (killed, then resumed); `third` once.
    expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual(['numbers', 'second', 'second', 'third']);
  }, 120_000);
});
