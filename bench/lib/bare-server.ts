import { type ChildProcess, spawn } from 'node:child_process';
import type { Cleanup } from './cleanup.ts';
import { freePort, keepServerLog, repoRoot, serverNodeFlags } from './keel-process.ts';
import { UsageError } from './usage-error.ts';

/** The baseline of the serving benchmarks: bench/serving/bare-oip-server.ts on `modelPath`, as a child process. */
export async function startBareServer(modelPath: string, cleanup: Cleanup): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    // The V8 setting `keel serve` runs with (docs/adr/0005), so the two servers' heaps are managed
    // alike; BENCH_NODE_FLAGS come after it, so they can turn it back on for both.
    [
      '--no-allocation-site-pretenuring',
      ...serverNodeFlags('baseline'),
      '--import',
      'tsx',
      'bench/serving/bare-oip-server.ts',
      modelPath,
      String(port),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  keepServerLog('baseline', child);
  cleanup.add('stop the baseline server', async () => {
    if (child.exitCode !== null) return;
    // SIGTERM first: it exits cleanly (and writes its CPU profile when one is asked for).
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
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
