import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Cleanup } from './cleanup.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface KeelProcess {
  url: string;
  adminKey: string;
  pid: number;
  stop(): Promise<void>;
}

export interface StartKeelOptions {
  dataDir: string;
  /** Postgres URL; SQLite in `dataDir` when absent. */
  postgresUrl?: string;
  poolSize?: number;
}

/** A port nothing listens on now (bind an ephemeral one, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Node flags for a server the benchmarks start (`name`: keel, baseline). BENCH_CPU_PROF=<dir>:
 * each writes V8 CPU profiles under it, in a folder named after the server (open them in Chrome
 * DevTools). BENCH_NODE_FLAGS: more flags for every server, e.g. `--trace-gc`, whose lines go
 * where BENCH_SERVER_LOG says (see `keepServerLog`).
 */
export function serverNodeFlags(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  // A folder per server: each of its threads writes a file of its own there (CPU.….<pid>.<thread>.….cpuprofile).
  const profile = dir ? ['--cpu-prof', '--cpu-prof-dir', join(dir, name)] : [];
  return [...profile, ...(process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [])];
}

/** BENCH_SERVER_LOG=<dir>: a server's stdout and stderr are appended to <dir>/<name>.log. */
export function keepServerLog(name: string, child: ChildProcess): void {
  const dir = process.env.BENCH_SERVER_LOG;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.log`);
  const append = (chunk: Buffer) => appendFileSync(file, chunk);
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
}

/**
 * Starts `keel serve` as a child process, exactly as a user would, and waits for /readyz.
 * A config file pins the storage and log level so a keel.yaml or KEEL_* variable of the
 * caller's shell cannot change what is measured.
 */
export async function startKeelProcess(opts: StartKeelOptions, cleanup: Cleanup): Promise<KeelProcess> {
  const port = await freePort();
  const configPath = join(opts.dataDir, 'keel.yaml');
  const storage = opts.postgresUrl
    ? { driver: 'postgres', url: opts.postgresUrl, poolSize: opts.poolSize ?? 10 }
    : { driver: 'sqlite' };
  await writeFile(configPath, stringify({ storage, log: { level: 'warn' } }));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEEL_')));
  const args = [
    ...serverNodeFlags('keel'),
    '--import',
    'tsx',
    'src/cli/main.ts',
    'serve',
    '--port',
    String(port),
    '--data-dir',
    opts.dataDir,
    '-c',
    configPath,
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  keepServerLog('keel', child);

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!(await waitForExit(child, 5000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 5000);
    }
  };
  cleanup.add('stop keel serve', stop);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`keel serve exited with code ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`keel serve did not become ready within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const adminKey = (await readFile(join(opts.dataDir, 'admin.key'), 'utf8')).trim();
  return { url, adminKey, pid: child.pid ?? 0, stop };
}
