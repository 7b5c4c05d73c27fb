import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CpuProfile, difference, type Round, type SelfTimes, selfTimes } from './lib/cpu-profile-cut.ts';
import { UsageError } from './lib/usage-error.ts';

const help = `npm run bench -- cpu-profile --profiles <dir> --rounds <file> --side <key> [flags]

Reads what a run with BENCH_CPU_PROF=<dir> BENCH_ROUNDS=<file> left (e.g. npm run bench -- serving)
and prints one side's self time per request, by function or file, cut to that side's timed rounds.

  --profiles <dir>      one server's profiles: <BENCH_CPU_PROF>/<server>, e.g. /tmp/prof/keel
  --rounds <file>       the BENCH_ROUNDS file of the same run
  --side <key>          the side whose rounds to take (baseline, oip, predict, predictNoBatch, predictNoLog)
  --concurrency <n>     only the rounds at this concurrency
  --against <key>       also cut this side and print the difference (side − against)
  --against-profiles <dir>  where --against's server wrote its profiles (default: --profiles)
  --by <file|function>  group self time by file or by function (default function)
  --top <n>             rows printed (default 40)
`;

async function loadProfiles(dir: string): Promise<CpuProfile[]> {
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new UsageError(`no .cpuprofile files under ${dir}`);
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as CpuProfile));
}

const fmt = (us: number) => us.toFixed(2).padStart(8);

function print(label: string, t: SelfTimes, top: number): void {
  process.stdout.write(`${label}: ${t.requests} requests, ${t.busyUs.toFixed(1)} busy µs per request (sampled)\n`);
  for (const [k, us] of t.rows.slice(0, top)) process.stdout.write(`${fmt(us)}  ${k}\n`);
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      profiles: { type: 'string' },
      rounds: { type: 'string' },
      side: { type: 'string' },
      concurrency: { type: 'string' },
      against: { type: 'string' },
      'against-profiles': { type: 'string' },
      by: { type: 'string' },
      top: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(help);
    return;
  }
  if (!values.profiles || !values.rounds || !values.side) throw new UsageError('--profiles, --rounds and --side are needed');
  const by = values.by ?? 'function';
  if (by !== 'file' && by !== 'function') throw new UsageError('--by takes file or function');
  const top = Number(values.top ?? 40);
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  const rounds = (await readFile(values.rounds, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Round);
  const root = process.cwd();
  const cut = async (side: string, dir: string) =>
    selfTimes(await loadProfiles(dir), rounds, { side, by, root, ...(concurrency !== undefined ? { concurrency } : {}) });
  const main = await cut(values.side, values.profiles);
  if (main.requests === 0) throw new UsageError(`no timed rounds of side '${values.side}' in ${values.rounds}`);
  if (!values.against) {
    print(values.side, main, top);
    return;
  }
  const other = await cut(values.against, values['against-profiles'] ?? values.profiles);
  print(values.side, main, 0);
  print(values.against, other, 0);
  process.stdout.write(`\n${values.side} − ${values.against}, µs per request (difference, ${values.side}, ${values.against}):\n`);
  for (const [k, d, a, b] of difference(main, other).slice(0, top)) process.stdout.write(`${fmt(d)}${fmt(a)}${fmt(b)}  ${k}\n`);
}
