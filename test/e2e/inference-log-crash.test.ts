import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceLog } from '../../src/serving/inference-log/index.ts';

const script = resolve(import.meta.dirname, '../fixtures/inference-log/append-until-killed.ts');

/** Runs the appender until it has acknowledged `killAfter` records, SIGKILLs it, and returns every acknowledged id. */
function appendThenKill(dir: string, prefix: string, killAfter: number): Promise<string[]> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let partial = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      acked.push(...lines);
      if (acked.length >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') fail(new Error(`appender exited on its own (code ${code}): ${stderr}`));
      else done(acked);
    });
  });
}

describe('inference log: SIGKILL while appending', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged record and returns no corrupt one, over repeated kills', async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-ilog-crash-'));
    const acked = new Set<string>();
    for (const [round, killAfter] of [3000, 1237, 5003, 421].entries()) {
      for (const id of await appendThenKill(dir, `k${round}`, killAfter)) acked.add(id);

      const log = await InferenceLog.open({ dir, compact: round % 2 === 0 });
      try {
        expect(log.recovery.corruptRecords).toBe(0);
        const { rows } = await log.queryLog(
          "SELECT request_id, inputs->>'$.requestId' AS echoed, (inputs->>'$.i')::BIGINT AS i FROM inference_log",
          { maxRows: 1_000_000 },
        );
        const logged = new Set<string>();
        for (const row of rows) {
          // Every record read back is whole: its inputs echo its own id and number.
          expect(row.echoed).toBe(row.request_id);
          expect(String(row.request_id).endsWith(`-${String(row.i)}`)).toBe(true);
          expect(logged.has(String(row.request_id))).toBe(false);
          logged.add(String(row.request_id));
        }
        const missing = [...acked].filter((id) => !logged.has(id));
        expect(missing).toEqual([]);
      } finally {
        await log.close();
      }
    }
    expect(acked.size).toBeGreaterThan(9000);
  });
});
