import Table from 'cli-table3';

export interface OutputOptions {
  json?: boolean;
}

/** Prints JSON (for scripts, nothing else on stdout) or a table for people. */
export function printResult(opts: OutputOptions, data: unknown, table?: { head: string[]; rows: unknown[][] }): void {
  if (opts.json || !table) {
    process.stdout.write(`${JSON.stringify(data, null, opts.json ? 2 : 2)}\n`);
    return;
  }
  const t = new Table({ head: table.head, style: { head: ['cyan'] } });
  for (const row of table.rows) t.push(row.map((c) => (c === null || c === undefined ? '' : String(c))));
  process.stdout.write(`${t.toString()}\n`);
}

export const formatTime = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z');
