import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { sha256 } from '../cache-key.ts';
import { type StepContext, StepError, type StepKind, type StepResult } from '../step-kind.ts';
import { parseStepParams } from './step-params.ts';

const paramsSchema = z
  .object({
    /** argv; the first item is looked up on PATH. A string runs through `sh -c`. */
    run: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean()])).default({}),
    /** Output files the step must write (names without extension). */
    outputs: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/)).default([]),
    /** Extra files or directories whose content belongs in the cache key (arguments that are files are included anyway). */
    code: z.array(z.string()).default([]),
    /** Free-form values handed to the command as KEEL_PARAMS (JSON). */
    with: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** Environment the server passes on: enough to find interpreters, nothing secret. */
const inheritedEnv = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'XDG_CONFIG_DIRS', 'PYENV_ROOT', 'PYENV_VERSION'];
/** pip's settings (index, wheelhouse, certificates), so Python steps install packages as the machine is set up to. */
const inheritedPrefixes = ['PIP_'];

const argv = (run: string | string[]): string[] => (typeof run === 'string' ? ['sh', '-c', run] : run);

/** Digests of every argument or `code` entry that is an existing file or directory under the pipeline's directory. */
async function codeDigest(ctx: StepContext, params: z.output<typeof paramsSchema>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const candidates = [...argv(params.run).slice(1), ...params.code];
  for (const c of candidates) {
    if (c.startsWith('-')) continue;
    const path = isAbsolute(c) ? c : resolve(ctx.baseDir, c);
    const info = await stat(path).catch(() => null);
    if (info?.isFile()) out[c] = sha256(await readFile(path));
    else if (info?.isDirectory()) out[c] = await dirDigest(path);
    else if (params.code.includes(c)) throw new StepError(`code path '${c}' does not exist (relative to ${ctx.baseDir})`);
  }
  return out;
}

async function dirDigest(dir: string): Promise<string> {
  const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const parts: string[] = [];
  for (const e of entries.sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
    const p = join(e.parentPath, e.name);
    parts.push(`${p.slice(dir.length)}:${sha256(await readFile(p))}`);
  }
  return sha256(parts.join('\n'));
}

function envFor(ctx: StepContext, params: z.output<typeof paramsSchema>, outDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Child processes need PATH and friends; passing the server's whole environment would leak its secrets.
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (inheritedEnv.includes(k) || inheritedPrefixes.some((p) => k.startsWith(p)))) env[k] = v;
  }
  for (const [k, v] of Object.entries(params.env)) env[k] = String(v);
  for (const [name, input] of Object.entries(ctx.inputs)) {
    env[`KEEL_INPUT_${name.toUpperCase()}`] = input.kind === 'file' ? input.path : JSON.stringify(input.value);
  }
  env.KEEL_OUTPUT_DIR = outDir;
  env.KEEL_PARAMS = JSON.stringify(params.with);
  env.KEEL_PIPELINE = ctx.pipeline;
  env.KEEL_PIPELINE_RUN = ctx.runId;
  env.KEEL_STEP = ctx.step.name;
  env.KEEL_PIPELINE_DIR = ctx.baseDir;
  return env;
}

/** Runs the command in its own process group so a timeout or cancel can stop everything it started. */
function runProcess(
  ctx: StepContext,
  cmd: string[],
  env: NodeJS.ProcessEnv,
  logPath: string,
): Promise<{ code: number | null; tail: string[] }> {
  return new Promise((resolvePromise, reject) => {
    if (ctx.signal.aborted) {
      reject(new StepError('stopped before it started', true));
      return;
    }
    const log = createWriteStream(logPath);
    const tail: string[] = [];
    const child = spawn(cmd[0] as string, cmd.slice(1), {
      cwd: ctx.workDir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) tail.push(line.slice(0, 500));
      if (tail.length > 40) tail.splice(0, tail.length - 20);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const kill = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      signalGroup(child.pid, 'SIGTERM');
      // The grace period ends in a timer, where a throw would be uncaught: signalGroup never throws.
      setTimeout(() => child.exitCode === null && signalGroup(child.pid, 'SIGKILL'), 5000).unref();
    };
    ctx.signal.addEventListener('abort', kill, { once: true });
    child.on('error', (e) => {
      log.end();
      reject(new StepError(`cannot start '${cmd[0]}': ${e.message}`));
    });
    child.on('close', (code) => {
      ctx.signal.removeEventListener('abort', kill);
      log.end(() => resolvePromise({ code, tail: tail.slice(-20) }));
    });
  });
}

/** Any executable as a step: inputs as files and env vars, outputs as files, `metrics.json` into tracking. */
export const commandStep: StepKind = {
  kind: 'command',
  version: '1',
  checkParams: (params) => void parseStepParams(paramsSchema, params),
  fingerprint: async (ctx) => ({ code: await codeDigest(ctx, parseStepParams(paramsSchema, ctx.params)) }),
  async execute(ctx): Promise<StepResult> {
    const params = parseStepParams(paramsSchema, ctx.params);
    const outDir = join(ctx.workDir, 'outputs');
    await mkdir(outDir, { recursive: true });
    const logPath = join(ctx.workDir, 'step.log');
    const cmd = argv(params.run).map((a, i) => (i > 0 && a.startsWith('./') ? resolve(ctx.baseDir, a) : a));
    const { code, tail } = await runProcess(ctx, cmd, envFor(ctx, params, outDir), logPath);
    await ctx.attachLog(logPath);
    if (ctx.signal.aborted) throw new StepError('stopped', true);
    if (code !== 0) throw new StepError(`command exited with ${code}; last output:\n${tail.join('\n')}`, true);
    const files: NonNullable<StepResult['files']> = {};
    for (const name of await readdir(outDir)) {
      const path = join(outDir, name);
      if ((await stat(path)).isFile()) files[name.slice(0, name.length - extname(name).length) || name] = { path };
    }
    for (const required of params.outputs) {
      if (!files[required]) throw new StepError(`command did not write output '${required}' to $KEEL_OUTPUT_DIR`);
    }
    const metrics = files.metrics ? await readMetrics(files.metrics.path) : undefined;
    return { files, ...(metrics ? { metrics } : {}) };
  },
};

async function readMetrics(path: string): Promise<Record<string, number>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new StepError(`metrics.json is not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new StepError('metrics.json must be an object of numbers');
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new StepError(`metrics.json: '${k}' must be a finite number`);
    metrics[k] = v;
  }
  return metrics;
}

/** Signals the process group led by `pid`; a group that has already exited is not an error. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
