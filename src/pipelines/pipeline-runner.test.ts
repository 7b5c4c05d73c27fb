import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemPrincipal } from '../auth/index.ts';
import type { PipelineService } from './pipeline-service.ts';
import { setUpPipelines } from './pipeline-test-kit.ts';
import { StepError, type StepKind } from './step-kind.ts';

let dir: string;
const executions: string[] = [];
let flakyFailures = 0;
const held: (() => void)[] = [];

/** Test kinds: each records that it ran, so tests can tell executed steps from cached ones. */
const kinds: StepKind[] = [
  {
    kind: 'emit',
    version: '1',
    async execute(ctx) {
      executions.push(ctx.step.name);
      const path = join(ctx.workDir, 'out.txt');
      await writeFile(path, String(ctx.params.text));
      return { files: { out: { path } }, metrics: { length: String(ctx.params.text).length } };
    },
  },
  {
    kind: 'concat',
    version: '1',
    async execute(ctx) {
      executions.push(ctx.step.name);
      let text = '';
      for (const name of Object.keys(ctx.inputs).sort()) {
        const input = ctx.inputs[name];
        if (input?.kind === 'file') text += await readFile(input.path, 'utf8');
      }
      const path = join(ctx.workDir, 'out.txt');
      await writeFile(path, text);
      return { files: { out: { path } }, values: { text } };
    },
  },
  {
    kind: 'flaky',
    version: '1',
    async execute(ctx) {
      executions.push(ctx.step.name);
      if (flakyFailures > 0) {
        flakyFailures -= 1;
        throw new Error('transient failure');
      }
      return { values: { ok: true } };
    },
  },
  {
    kind: 'refuse',
    version: '1',
    async execute(ctx) {
      executions.push(ctx.step.name);
      throw new StepError('refused: retrying cannot help');
    },
  },
  {
    kind: 'hold',
    version: '1',
    async execute(ctx) {
      executions.push(`${ctx.step.name}:start`);
      await new Promise<void>((resolve) => held.push(resolve));
      executions.push(`${ctx.step.name}:end`);
      return { values: { ok: true } };
    },
  },
  {
    kind: 'wait',
    version: '1',
    execute(ctx) {
      executions.push(ctx.step.name);
      return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    },
  },
];

const setup = () => setUpPipelines(dir, kinds);

const diamond = (text = 'a', extra: Record<string, unknown> = {}) => ({
  name: 'diamond',
  params: { text },
  steps: [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a pipeline param reference, not a JS template
    { name: 'left', kind: 'emit', params: { text: '${params.text}' } },
    { name: 'right', kind: 'emit', params: { text: 'b' } },
    { name: 'join', kind: 'concat', inputs: { a: 'left.out', b: 'right.out' } },
    { name: 'after', kind: 'concat', inputs: { x: 'join.out' } },
  ],
  ...extra,
});

async function runToEnd(service: PipelineService, params: Record<string, string> = {}) {
  const { run, done } = await service.start(systemPrincipal, 'prj_1', 'diamond', { params });
  await done;
  return service.getRun(systemPrincipal, run.id);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-runner-'));
  executions.length = 0;
  flakyFailures = 0;
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('PipelineRunner', () => {
  it('runs steps in dependency order and passes files between them', async () => {
    const { service } = await setup();
    await service.apply(systemPrincipal, 'prj_1', diamond(), null);
    const run = await runToEnd(service);
    expect(run.status).toBe('succeeded');
    expect(executions.indexOf('join')).toBeGreaterThan(Math.max(executions.indexOf('left'), executions.indexOf('right')));
    expect(run.steps.find((s) => s.step === 'after')?.outputs?.values.text).toBe('ab');
  });

  it('hits the cache on every step when nothing changed, and explains why', async () => {
    const { service } = await setup();
    await service.apply(systemPrincipal, 'prj_1', diamond(), null);
    await runToEnd(service);
    executions.length = 0;
    const again = await runToEnd(service);
    expect(executions).toEqual([]);
    expect(again.steps.map((s) => s.status)).toEqual(['cached', 'cached', 'cached', 'cached']);
    expect(again.steps[0]?.explain).toMatch(/^hit: same code, params and inputs as run plr_/);
  });

  it('reruns only the changed step and what depends on it', async () => {
    const { service } = await setup();
    await service.apply(systemPrincipal, 'prj_1', diamond(), null);
    await runToEnd(service);
    executions.length = 0;
    const changed = await runToEnd(service, { text: 'z' });
    expect(executions.sort()).toEqual(['after', 'join', 'left']);
    expect(changed.steps.find((s) => s.step === 'right')?.status).toBe('cached');
    expect(changed.steps.find((s) => s.step === 'left')?.explain).toBe('miss: params changed (text)');
    expect(changed.steps.find((s) => s.step === 'join')?.explain).toBe('miss: inputs changed (a)');
    expect(changed.steps.find((s) => s.step === 'after')?.outputs?.values.text).toBe('zb');
  });

  it('lets a downstream step hit the cache when a rerun upstream step writes the same bytes', async () => {
    const { service } = await setup();
    await service.apply(
      systemPrincipal,
      'prj_1',
      {
        name: 'diamond',
        params: { note: 'one' },
        steps: [
          // `note` changes the step's key but not what it writes.
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a pipeline param reference, not a JS template
          { name: 'left', kind: 'emit', params: { text: 'same', note: '${params.note}' } },
          { name: 'after', kind: 'concat', inputs: { x: 'left.out' } },
        ],
      },
      null,
    );
    await runToEnd(service);
    executions.length = 0;
    const again = await runToEnd(service, { note: 'two' });
    expect(executions).toEqual(['left']);
    expect(again.steps.map((s) => s.status)).toEqual(['succeeded', 'cached']);
  });

  it('retries a transient failure with backoff, but not a refusal', async () => {
    const { service } = await setup();
    flakyFailures = 2;
    await service.apply(
      systemPrincipal,
      'prj_1',
      {
        name: 'diamond',
        steps: [
          { name: 'flaky', kind: 'flaky', retry: { max_attempts: 3, initial_delay: 1, max_delay: 5 } },
          { name: 'refuse', kind: 'refuse', needs: ['flaky'], retry: { max_attempts: 3, initial_delay: 1, max_delay: 5 } },
        ],
      },
      null,
    );
    const run = await runToEnd(service);
    expect(run.status).toBe('failed');
    expect(run.steps.map((s) => [s.step, s.status, s.attempts])).toEqual([
      ['flaky', 'succeeded', 3],
      ['refuse', 'failed', 1],
    ]);
    expect(run.error).toContain('refused');
  });

  it('resumes a failed run without redoing finished steps', async () => {
    const { service } = await setup();
    flakyFailures = 1;
    await service.apply(
      systemPrincipal,
      'prj_1',
      {
        name: 'diamond',
        steps: [
          { name: 'first', kind: 'emit', params: { text: 'x' } },
          { name: 'flaky', kind: 'flaky', needs: ['first'] },
          { name: 'last', kind: 'concat', inputs: { a: 'first.out' }, needs: ['flaky'] },
        ],
      },
      null,
    );
    const failed = await runToEnd(service);
    expect(failed.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'skipped']);
    executions.length = 0;
    const { done } = await service.resume(systemPrincipal, failed.id);
    await done;
    const resumed = await service.getRun(systemPrincipal, failed.id);
    expect(resumed.status).toBe('succeeded');
    expect(executions).toEqual(['flaky', 'last']);
    expect(resumed.steps[0]?.attempts).toBe(1);
  });

  it('cancels a running run and stops its steps', async () => {
    const { service } = await setup();
    await service.apply(
      systemPrincipal,
      'prj_1',
      {
        name: 'diamond',
        steps: [
          { name: 'wait', kind: 'wait' },
          { name: 'never', kind: 'emit', needs: ['wait'], params: { text: 'n' } },
        ],
      },
      null,
    );
    const { run, done } = await service.start(systemPrincipal, 'prj_1', 'diamond');
    while (!executions.includes('wait')) await new Promise((r) => setTimeout(r, 5));
    await service.cancel(systemPrincipal, run.id);
    await done;
    const after = await service.getRun(systemPrincipal, run.id);
    expect(after.status).toBe('cancelled');
    expect(after.steps.map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
    expect(executions).not.toContain('never');
  });

  it('mirrors the run into tracking: a parent run and a child run per step with its metrics', async () => {
    const { service, tracking } = await setup();
    await service.apply(systemPrincipal, 'prj_1', diamond('abc'), null);
    const run = await runToEnd(service);
    const left = run.steps.find((s) => s.step === 'left');
    const child = await tracking.getRun(systemPrincipal, left?.trackingRunId as string);
    expect(child.status).toBe('FINISHED');
    expect(child.parentRunId).toBe(run.trackingRunId);
    expect(child.tags).toContainEqual({ key: 'keel.step', value: 'left' });
    expect(child.metrics.find((m) => m.key === 'length')?.value).toBe(3);
    const parent = await tracking.getRun(systemPrincipal, run.trackingRunId as string);
    expect(parent.status).toBe('FINISHED');
    expect(parent.params).toContainEqual({ key: 'text', value: 'abc' });
  });

  it('runs at most maxConcurrentSteps steps at once across runs', async () => {
    const { service } = await setUpPipelines(dir, kinds, 1);
    await service.apply(
      systemPrincipal,
      'prj_1',
      {
        name: 'diamond',
        concurrency: 4,
        steps: [
          { name: 'a', kind: 'hold' },
          { name: 'b', kind: 'hold' },
        ],
      },
      null,
    );
    const first = await service.start(systemPrincipal, 'prj_1', 'diamond');
    const second = await service.start(systemPrincipal, 'prj_1', 'diamond');
    const release = async () => {
      while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
      // Give a second step every chance to start if the limit were not enforced.
      await new Promise((r) => setTimeout(r, 20));
      expect(executions.filter((e) => e.endsWith(':start')).length - executions.filter((e) => e.endsWith(':end')).length).toBe(1);
      held.shift()?.();
    };
    for (let i = 0; i < 4; i++) await release();
    await Promise.all([first.done, second.done]);
    expect(executions).toHaveLength(8);
    expect((await service.getRun(systemPrincipal, second.run.id)).status).toBe('succeeded');
  });

  it('refuses bad pipelines with every problem named', async () => {
    const { service } = await setup();
    await expect(
      service.apply(
        systemPrincipal,
        'prj_1',
        {
          name: 'bad',
          steps: [
            { name: 'a', kind: 'emit', needs: ['b'] },
            { name: 'b', kind: 'emit', needs: ['a'] },
          ],
        },
        null,
      ),
    ).rejects.toThrow(/dependency cycle a → b → a|dependency cycle b → a → b/);
    await expect(
      service.apply(
        systemPrincipal,
        'prj_1',
        { name: 'bad', steps: [{ name: 'a', kind: 'nope', inputs: { x: 'zz.out' } }] },
        null,
      ),
    ).rejects.toThrow(/unknown step kind 'nope'.*depends on unknown step 'zz'/);
  });
});
