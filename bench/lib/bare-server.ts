import { type ChildProcess, spawn } from 'node:child_process';
import type { Cleanup } from './cleanup.ts';
import { freePort, repoRoot } from './keel-process.ts';
import { UsageError } from './usage-error.ts';

/** The baseline of the serving benchmarks: bench/serving/bare-oip-server.ts on `modelPath`, as a child process. */
export async function startBareServer(modelPath: string, cleanup: Cleanup): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/serving/bare-oip-server.ts', modelPath, String(port)],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanup.add('stop the baseline server', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the baseline server did not start:\n${output}`)), 60_000);
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('exit', (code) => reject(new Error(`the baseline server exited (${code}):\n${output}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid ?? 0 };
}

/** `--name <n>`: an integer ≥ min, or the fallback when absent. */
export function intFlag(raw: string | undefined, fallback: number, min: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
  return n;
}

/** `--concurrency 1,8,64`. */
export function concurrencyFlag(raw: string): number[] {
  const list = raw.split(',').map(Number);
  if (list.some((c) => !Number.isSafeInteger(c) || c < 1)) throw new UsageError('--concurrency is a list of integers ≥ 1');
  return list;
}
