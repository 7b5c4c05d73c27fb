import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { AppError } from '../core/index.ts';

/**
 * Which files `files` and `query` sources may read: Parquet and CSV files under the allowed roots,
 * never inside a hidden folder (`.keel`, `.git`) and never inside the denied folders (Keel's data
 * dir: blobs, retrievals, scratch; other projects' data lives there). The extension rule keeps
 * keys, databases and configs out even inside a root.
 */
export interface PathPolicy {
  roots: string[];
  denied: string[];
}

export type DataFormat = 'parquet' | 'csv';

const extensions: [string, DataFormat][] = [
  ['.parquet', 'parquet'],
  ['.csv', 'csv'],
  ['.tsv', 'csv'],
  ['.csv.gz', 'csv'],
  ['.tsv.gz', 'csv'],
];
export const maxFiles = 10_000;

const real = async (p: string) => realpath(p).catch(() => resolve(p));

export async function createPathPolicy(roots: readonly string[], denied: readonly string[]): Promise<PathPolicy> {
  return { roots: await Promise.all(roots.map(real)), denied: await Promise.all(denied.map(real)) };
}

export function formatOf(path: string): DataFormat | null {
  const lower = path.toLowerCase();
  return extensions.find(([ext]) => lower.endsWith(ext))?.[1] ?? null;
}

export const hasGlob = (p: string): boolean => /[*?[{]/.test(p);

const invalid = (raw: string, why: string) =>
  new AppError('INVALID_PATH', `cannot read '${raw.slice(0, 300)}': ${why}`, { path: raw.slice(0, 1000) });

const inside = (root: string, p: string): string | null => {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) ? rel : null;
};

/** The closest enclosing folder decides: a root inside a denied folder (`<dataDir>/imports`) is readable. */
function checkLocation(policy: PathPolicy, raw: string, abs: string): void {
  const closest = (dirs: string[]) =>
    dirs
      .filter((d) => inside(d, abs) !== null)
      .reduce<string | null>((best, d) => (best === null || d.length > best.length ? d : best), null);
  const root = closest(policy.roots);
  const denied = closest(policy.denied);
  if (root === null) {
    throw invalid(raw, `it is outside the folders datasets may read (${policy.roots.join(', ')}; config datasets.allowedRoots)`);
  }
  if (denied !== null && denied.length >= root.length) throw invalid(raw, 'Keel keeps its own files there');
  if ((inside(root, abs) ?? '').split(sep).some((seg) => seg.startsWith('.')))
    throw invalid(raw, 'hidden files and folders are not readable');
}

/**
 * Checks a path or glob as written, before anything touches the disk: local, a data extension,
 * and (for a glob, its folder part) inside a root. Returns it absolute.
 */
export function checkPathShape(policy: PathPolicy, raw: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw invalid(raw, 'only local files are readable, not URLs');
  if (raw.includes('\0')) throw invalid(raw, 'NUL in path');
  if (!formatOf(raw)) throw invalid(raw, 'datasets read .parquet, .csv, .tsv, .csv.gz and .tsv.gz files');
  const abs = resolve(raw);
  const parts = abs.split(sep);
  const firstGlob = parts.findIndex(hasGlob);
  checkLocation(policy, raw, firstGlob < 0 ? abs : parts.slice(0, firstGlob).join(sep) || sep);
  return abs;
}

/** Checks one existing file where it really lives (symlinks resolved); returns its real path. */
export async function checkDataFile(policy: PathPolicy, raw: string, abs: string): Promise<string> {
  let target: string;
  try {
    target = await realpath(abs);
    if (!(await stat(target)).isFile()) throw invalid(raw, 'not a file');
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw invalid(raw, 'no such file');
  }
  if (!formatOf(target)) throw invalid(raw, 'it links to a file that is not .parquet or .csv');
  checkLocation(policy, raw, target);
  return target;
}
