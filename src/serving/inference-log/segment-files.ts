import type { FileHandle } from 'node:fs/promises';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Sequence numbers are zero-padded so file names sort in append order. */
export const seqName = (seq: number, ext: string): string => `${String(seq).padStart(12, '0')}.${ext}`;

export function parseSeq(name: string, ext: string): number | null {
  const m = new RegExp(`^(\\d{12})\\.${ext}$`).exec(name);
  return m?.[1] ? Number(m[1]) : null;
}

export async function listSeqs(dir: string, ext: string): Promise<number[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
  return names
    .map((n) => parseSeq(n, ext))
    .filter((s): s is number => s !== null)
    .sort((a, b) => a - b);
}

/** A file's directory entry is durable only once the directory itself is synced (creates, renames, unlinks). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** write(2) may write less than asked; loop until the whole buffer is in. */
export async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, null);
    off += bytesWritten;
  }
}

export const segmentPath = (dir: string, seq: number): string => join(dir, 'segments', seqName(seq, 'jsonl'));

/** UTC date of an epoch-ms time, the Parquet partition folder name. */
export const utcDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
