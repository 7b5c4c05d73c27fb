import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { processCpuMs } from './cpu.ts';
import { undoWrkCorrection, wrkCorrectionInterval } from './wrk-histogram.ts';

/** The Lua side of a run: rotates the bodies, prints the summary and the latency histogram. */
const scriptPath = join(dirname(fileURLToPath(import.meta.url)), 'keel-bench.lua');

const run = promisify(execFile);

/** Whether Debian's wrk (`apt install wrk`) is on this machine. */
export function wrkInstalled(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // `wrk --version` prints its usage and exits 1: it exists. Only a missing binary throws ENOENT.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export interface WrkRound {
  requests: number;
  wallMs: number;
  /** Every request's latency in ms, from wrk's µs histogram with its coordinated-omission samples taken out. */
  latencies: number[];
  /** CPU the wrk process used (user + system), ms. */
  cpuMs: number;
}

/** A closed-loop load generator on wrk: `concurrency` keep-alive connections, each sending its next request when its last answer arrives. */
export class WrkLoad {
  /** `dir`: where the bodies files go. */
  constructor(private readonly dir: string) {}

  /** Writes bodies for `run`, one per line (JSON holds no raw newline). */
  bodiesFile(name: string, bodies: string[]): string {
    const file = join(this.dir, `${name}.bodies`);
    writeFileSync(file, `${bodies.join('\n')}\n`);
    return file;
  }

  /** One round of `seconds` against `url + path`; fails when any answer was not 2xx/3xx or a socket failed. */
  async run(o: {
    url: string;
    path: string;
    apiKey: string;
    bodiesFile: string;
    concurrency: number;
    seconds: number;
    startIndex: number;
  }): Promise<WrkRound> {
    const cpuBefore = childrenCpuMs();
    const { stdout } = await run(
      'wrk',
      [
        '-t1',
        `-c${o.concurrency}`,
        `-d${o.seconds}s`,
        '--timeout',
        '60s',
        '-s',
        scriptPath,
        o.url,
        '--',
        o.bodiesFile,
        o.path,
        String(o.startIndex),
        o.apiKey,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const cpuMs = childrenCpuMs() - cpuBefore;
    const lines = stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('KEEL-WRK '));
    if (at < 0) throw new Error(`wrk printed no summary:\n${stdout}`);
    const [requests, durationUs, badStatus, socketErrors] = (lines[at] as string).split(' ').slice(1).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    if (badStatus > 0 || socketErrors > 0) {
      throw new Error(
        `wrk against ${o.path}: ${badStatus} answers with status ≥ 400 and ${socketErrors} socket errors in ${requests} requests`,
      );
    }
    const corrected = new Map<number, number>();
    for (const line of lines.slice(at + 1)) {
      const [value, count] = line.split(' ').map(Number);
      if (value === undefined || count === undefined || Number.isNaN(count)) continue;
      corrected.set(value, count);
    }
    const recorded = undoWrkCorrection(corrected, wrkCorrectionInterval(durationUs, requests, o.concurrency));
    const latencies: number[] = [];
    for (const [value, count] of recorded) for (let k = 0; k < count; k++) latencies.push(value / 1000);
    if (latencies.length !== requests) {
      throw new Error(
        `wrk against ${o.path}: ${requests} requests but ${latencies.length} latencies once its correction is undone`,
      );
    }
    return { requests, wallMs: durationUs / 1000, latencies, cpuMs };
  }
}

/** CPU of this process's children that have exited and been reaped (Linux cutime + cstime), ms. */
function childrenCpuMs(): number {
  return processCpuMs(process.pid, false, true);
}
