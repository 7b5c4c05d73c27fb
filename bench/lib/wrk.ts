import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processCpuMs } from './cpu.ts';

const run = promisify(execFile);

/** Debian's wrk (`apt install wrk`), or undefined when it is not on this machine. */
export function findWrk(): string | undefined {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return 'wrk';
  } catch (e) {
    // `wrk --version` prints its usage and exits 1: it exists. Only a missing binary throws ENOENT.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'wrk';
  }
}

/**
 * The Lua side of one wrk run: POSTs the bodies of a file (one JSON per line) in turn, starting
 * at a given index so consecutive rounds continue the rotation, and prints the latency
 * histogram (distinct µs values and their counts) after its summary, for the bench to merge
 * rounds exactly instead of averaging percentiles.
 */
const script = `
local bodies, n, nextIndex, path = {}, 0, 0, "/"
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  n = #bodies
  path = args[2]
  nextIndex = tonumber(args[3])
  if args[4] ~= "" then wrk.headers["authorization"] = "Bearer " .. args[4] end
  wrk.headers["content-type"] = "application/json"
end
function request()
  local body = bodies[(nextIndex % n) + 1]
  nextIndex = nextIndex + 1
  return wrk.format("POST", path, nil, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write("KEEL-WRK ", summary.requests, " ", summary.duration, " ", e.status, " ",
    e.connect + e.read + e.write + e.timeout, "\\n")
  for i = 1, #latency do
    local value, count = latency(i)
    io.write(value, " ", count, "\\n")
  end
end
`;

export interface WrkRound {
  requests: number;
  wallMs: number;
  /** Every request's latency in ms, expanded from wrk's µs histogram. */
  latencies: number[];
  /** CPU the wrk process used (user + system), ms. */
  cpuMs: number;
}

/** A closed-loop load generator on wrk: `concurrency` keep-alive connections, each sending its next request when its last answer arrives. */
export class WrkLoad {
  private readonly scriptPath: string;

  constructor(
    private readonly binary: string,
    private readonly dir: string,
  ) {
    this.scriptPath = join(dir, 'keel-bench.lua');
    writeFileSync(this.scriptPath, script);
  }

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
      this.binary,
      [
        '-t1',
        `-c${o.concurrency}`,
        `-d${o.seconds}s`,
        '--timeout',
        '60s',
        '-s',
        this.scriptPath,
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
    const latencies: number[] = [];
    for (const line of lines.slice(at + 1)) {
      const [value, count] = line.split(' ').map(Number);
      if (value === undefined || count === undefined || Number.isNaN(count)) continue;
      for (let k = 0; k < count; k++) latencies.push(value / 1000);
    }
    return { requests, wallMs: durationUs / 1000, latencies, cpuMs };
  }
}

/** CPU of this process's children that have exited and been reaped (Linux cutime + cstime), ms. */
function childrenCpuMs(): number {
  return processCpuMs(process.pid, false, true);
}
