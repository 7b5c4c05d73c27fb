import { readFileSync } from 'node:fs';

/** Linux reports process and machine CPU in clock ticks of 10 ms (USER_HZ is 100 on every Linux ABI). */
const msPerTick = 10;

/**
 * CPU time (user + system) a process has used so far, in ms, all its threads or only its main
 * thread (where a Node server's JavaScript runs), or what its exited and reaped children used
 * (a load generator run as a child process); NaN where /proc cannot tell.
 */
export function processCpuMs(pid: number, mainThreadOnly = false, reapedChildren = false): number {
  try {
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces): utime and stime are
    // fields 14 and 15, cutime and cstime (reaped children) 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const first = reapedChildren ? 13 : 11;
    return (Number(fields[first]) + Number(fields[first + 1])) * msPerTick;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU time of the whole machine so far, in ms summed over cores; NaN where /proc cannot tell. */
export function machineCpuMs(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: (total - idle) * msPerTick, total: total * msPerTick };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** CPU counters at one moment: a server process (all threads, main thread), this process, the machine. */
export interface CpuSnapshot {
  server: number;
  main: number;
  client: NodeJS.CpuUsage;
  machine: { busy: number; total: number };
}

export function cpuSnapshot(serverPid: number): CpuSnapshot {
  return {
    server: processCpuMs(serverPid),
    main: processCpuMs(serverPid, true),
    client: process.cpuUsage(),
    machine: machineCpuMs(),
  };
}

/** CPU used since `before`, in ms: the server, its main thread, this process (the load generator), the machine's busy and total. */
export function cpuSince(serverPid: number, before: CpuSnapshot) {
  const now = cpuSnapshot(serverPid);
  const client = process.cpuUsage(before.client);
  return {
    server: now.server - before.server,
    main: now.main - before.main,
    client: (client.user + client.system) / 1000,
    busy: now.machine.busy - before.machine.busy,
    total: now.machine.total - before.machine.total,
  };
}
