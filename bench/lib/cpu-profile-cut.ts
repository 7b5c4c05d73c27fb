/**
 * Cuts V8 CPU profiles (`BENCH_CPU_PROF`) by the timed rounds `BENCH_ROUNDS` recorded, so one
 * side's share of a server's samples can be read per request: self time per function or file.
 */

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One line of a `BENCH_ROUNDS` file: a timed round's side, concurrency, requests and monotonic µs span. */
export interface Round {
  side: string;
  concurrency: number;
  requests: number;
  startUs: string;
  endUs: string;
}

export interface SelfTimes {
  requests: number;
  /** Sampled busy µs per request (idle samples left out). */
  busyUs: number;
  /** Self µs per request, by function or file, largest first. */
  rows: [string, number][];
}

/** A frame's source, shortened: dependencies as `nm/<package path>`, the project's files relative to `root`. */
function sourceOf(url: string, root: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return `nm/${url.slice(nm + 'node_modules/'.length)}`;
  const local = url.replace(/^file:\/\//, '');
  return local.startsWith(`${root}/`) ? local.slice(root.length + 1) : local;
}

/**
 * Self time per request of `side`'s rounds (at `concurrency`, when given) in `profiles`: each
 * sample counts for the time until the next one, and only samples inside one of those rounds.
 */
export function selfTimes(
  profiles: CpuProfile[],
  rounds: Round[],
  opts: { side: string; concurrency?: number; by: 'file' | 'function'; root: string },
): SelfTimes {
  const spans = rounds
    .filter((r) => r.side === opts.side && (opts.concurrency === undefined || r.concurrency === opts.concurrency))
    .map((r) => ({ start: Number(r.startUs), end: Number(r.endUs), requests: r.requests }));
  const requests = spans.reduce((n, s) => n + s.requests, 0);
  const self = new Map<string, number>();
  let busy = 0;
  for (const p of profiles) {
    const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      const frame = frames.get(p.samples[i] as number);
      if (!frame || frame.functionName === '(idle)') continue;
      if (!spans.some((s) => t >= s.start && t < s.end)) continue;
      const dt = p.timeDeltas[i + 1] ?? 0;
      const source = sourceOf(frame.url, opts.root);
      const key =
        opts.by === 'file' ? source || frame.functionName : `${frame.functionName || '(anon)'} ${source}:${frame.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + dt);
      busy += dt;
    }
  }
  const per = (us: number) => (requests > 0 ? us / requests : 0);
  return {
    requests,
    busyUs: per(busy),
    rows: [...self].map(([k, us]): [string, number] => [k, per(us)]).sort((a, b) => b[1] - a[1]),
  };
}

/** `a` minus `b`, row by row (a row missing on one side counts 0 there), largest difference first. */
export function difference(a: SelfTimes, b: SelfTimes): [string, number, number, number][] {
  const bs = new Map(b.rows);
  const keys = new Set([...a.rows.map(([k]) => k), ...bs.keys()]);
  const as = new Map(a.rows);
  return [...keys]
    .map((k): [string, number, number, number] => [k, (as.get(k) ?? 0) - (bs.get(k) ?? 0), as.get(k) ?? 0, bs.get(k) ?? 0])
    .sort((x, y) => y[1] - x[1]);
}
