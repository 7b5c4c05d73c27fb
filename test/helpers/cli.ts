import { type ChildProcess, execFile } from 'node:child_process';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts the real `keel` entry point as a child process; `result` settles when it exits. */
export function startCli(
  args: string[],
  env: { url: string; key: string },
  timeout = 60_000,
): { child: ChildProcess; result: Promise<CliResult> } {
  let child!: ChildProcess;
  const result = new Promise<CliResult>((done) => {
    child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: repoRoot, env: { ...process.env, KEEL_URL: env.url, KEEL_API_KEY: env.key }, timeout },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
  return { child, result };
}

/** Runs the real `keel` entry point as a child process, the way scripts and people do. */
export function runCli(args: string[], env: { url: string; key: string }, timeout = 60_000): Promise<CliResult> {
  return startCli(args, env, timeout).result;
}
