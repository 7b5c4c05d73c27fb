import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { repoRoot } from './keel-process.ts';

/** One line describing where the numbers were taken. */
export function machineLine(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown cpu';
  const mem = (totalmem() / 1024 ** 3).toFixed(0);
  return `${list.length} × ${model}, ${mem} GiB RAM, ${process.platform} ${release()} ${process.arch}, node ${process.version}`;
}

/** The 1-minute load average: above the CPU count, other work was competing for the machine. */
export const loadAverage = (): string => (loadavg()[0] ?? 0).toFixed(2);

/** The commit measured, and whether the working tree differed from it. */
export function codeVersion(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
