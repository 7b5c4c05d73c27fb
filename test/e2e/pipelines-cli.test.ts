import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const fixtures = join(import.meta.dirname, '../fixtures/pipelines');

describe('keel pipelines', () => {
  let keel: TestKeel;
  let env: { url: string; key: string };

  beforeAll(async () => {
    keel = await startTestKeel();
    env = { url: keel.url, key: keel.adminKey as string };
  });
  afterAll(async () => keel?.dispose());

  it('applies a TypeScript pipeline, runs it, follows it, and explains the cache on a rerun', async () => {
    const file = join(fixtures, 'numbers.pipeline.ts');
    const applied = await runCli(['pipelines', 'apply', '-f', file, '--json'], env);
    expect(applied.stderr).toBe('');
    expect(JSON.parse(applied.stdout)).toMatchObject({ changed: true, definition: { name: 'numbers-ts', version: 1 } });

    const first = await runCli(['pipelines', 'run', 'numbers-ts'], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/✓ make succeeded[\s\S]*✓ sum succeeded/);
    expect(first.stdout).toMatch(/status\s+succeeded/);

    const again = await runCli(['pipelines', 'run', 'numbers-ts', '--explain', '-p', 'count=7'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/make\W+succeeded[^\n]*miss: params changed \(env\)/);
    expect(again.stdout).toMatch(/sum\W+succeeded[^\n]*miss: inputs changed \(numbers\)/);
    const runId = /run\s+(plr_\w+)/.exec(again.stdout)?.[1] as string;
    const status = await runCli(['pipelines', 'status', runId, '--json'], env);
    expect(JSON.parse(status.stdout).steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'succeeded']);

    const runs = await runCli(['pipelines', 'runs', 'numbers-ts', '--json'], env);
    expect(JSON.parse(runs.stdout).runs).toHaveLength(2);
  });

  it('exits 13 when a run fails and names the failing step; 2 for a bad file', async () => {
    const failing = join(keel.dataDir, 'failing.yaml');
    await writeFile(
      failing,
      'name: failing\nsteps:\n  - { name: boom, kind: command, params: { run: "echo broken >&2; exit 4" } }\n',
    );
    const res = await runCli(['pipelines', 'run', 'failing', '-f', failing], env);
    expect(res.code).toBe(13);
    expect(res.stderr).toMatch(/✗ boom failed/);
    expect(res.stderr).toMatch(/command exited with 4/);

    const bad = join(keel.dataDir, 'bad.yaml');
    await writeFile(bad, 'name: bad\nsteps: [ { name: a, kind: nope } ]\n');
    const refused = await runCli(['pipelines', 'apply', '-f', bad], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/unknown step kind 'nope'/);
  });
});
