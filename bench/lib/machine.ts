import { cpus, loadavg, release, totalmem } from 'node:os';

/** One line describing where the numbers were taken. */
export function machineLine(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown cpu';
  const mem = (totalmem() / 1024 ** 3).toFixed(0);
  return `${list.length} × ${model}, ${mem} GiB RAM, ${process.platform} ${release()} ${process.arch}, node ${process.version}`;
}

/** The 1-minute load average: above the CPU count, other work was competing for the machine. */
export const loadAverage = (): string => (loadavg()[0] ?? 0).toFixed(2);
