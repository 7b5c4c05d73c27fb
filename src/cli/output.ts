import Table from 'cli-table3';

export interface OutputOptions {
  json?: boolean;
}

export interface TableSpec {
  head: string[];
  rows: unknown[][];
}

const cell = (c: unknown): string => (c === null || c === undefined ? '' : typeof c === 'object' ? JSON.stringify(c) : String(c));

export function renderTable(table: TableSpec): string {
  // Colour codes only for terminals: piped output (grep, files, tests) stays plain text.
  const color = process.stdout.isTTY === true;
  const t = new Table({
    head: table.head,
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
    // No rule between rows: long listings stay readable and greppable.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of table.rows) t.push(row.map(cell));
  return t.toString();
}

/** Prints JSON (for scripts, nothing else on stdout) or a table for people. */
export function printResult(opts: OutputOptions, data: unknown, table?: TableSpec): void {
  if (opts.json || !table) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${renderTable(table)}\n`);
}

/** A titled section of a detail view; empty sections say so instead of drawing an empty box. */
export function renderSection(title: string, table: TableSpec): string {
  return table.rows.length === 0 ? `${title}: none` : `${title}:\n${renderTable(table)}`;
}

/** Detail views: JSON for scripts, otherwise field/value lines followed by sections. */
export function printDetails(opts: OutputOptions, data: unknown, fields: [string, unknown][], sections: string[] = []): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  const width = Math.max(...fields.map(([k]) => k.length));
  const lines = fields.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`);
  process.stdout.write(`${[lines.join('\n'), ...sections].join('\n\n')}\n`);
}

/** Human-only notes (pagination hints, next steps) go to stderr so stdout stays pipeable. */
export function note(opts: OutputOptions, message: string): void {
  if (!opts.json) process.stderr.write(`${message}\n`);
}

export const formatTime = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z');

/** Compact `k=v` list for table cells. */
export function formatPairs(pairs: { key: string; value: unknown }[] | Record<string, unknown>, max = 4): string {
  const list = Array.isArray(pairs) ? pairs : Object.entries(pairs).map(([key, value]) => ({ key, value }));
  const shown = list.slice(0, max).map((p) => `${p.key}=${typeof p.value === 'number' ? formatNumber(p.value) : cell(p.value)}`);
  return list.length > max ? `${shown.join(' ')} …(+${list.length - max})` : shown.join(' ');
}

export const formatNumber = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));

/** `sha256:` plus 12 hex digits: enough to tell versions apart in a table; --json has the full digest. */
export const shortDigest = (digest: string): string => (digest.length > 19 ? `${digest.slice(0, 19)}…` : digest);
