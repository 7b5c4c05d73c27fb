import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataFile, checkPathShape, createPathPolicy, formatOf, type PathPolicy } from './path-policy.ts';

describe('path policy', () => {
  let base: string;
  let root: string;
  let policy: PathPolicy;
  const check = async (p: string) => checkDataFile(policy, p, checkPathShape(policy, p));
  const codeOf = async (p: string) =>
    check(p).then(
      () => 'ok',
      (e: { code: string }) => e.code,
    );

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'keel-paths-'));
    root = join(base, 'root');
    await mkdir(join(root, 'data'), { recursive: true });
    await mkdir(join(root, '.hidden'), { recursive: true });
    await mkdir(join(root, 'blobs'), { recursive: true });
    await mkdir(join(base, 'outside'), { recursive: true });
    await mkdir(join(root, 'keel', 'imports'), { recursive: true });
    await mkdir(join(root, 'keel', 'retrievals'), { recursive: true });
    const files = [
      'data/a.parquet',
      'data/b.CSV',
      'data/c.tsv.gz',
      '.hidden/h.parquet',
      'secret.key',
      'blobs/x.parquet',
      '../outside/o.parquet',
    ];
    for (const f of [...files, 'keel/imports/i.parquet', 'keel/retrievals/r.parquet']) {
      await writeFile(join(root, f), 'x');
    }
    await symlink('/etc/passwd', join(root, 'data', 'passwd.csv'));
    await symlink(join(root, 'secret.key'), join(root, 'data', 'key.parquet'));
    await symlink(join(base, 'outside', 'o.parquet'), join(root, 'data', 'escape.parquet'));
    await symlink(join(root, 'data', 'a.parquet'), join(base, 'outside', 'in.parquet'));
    policy = await createPathPolicy([root], [join(root, 'blobs')]);
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('reads Parquet and CSV files inside a root, by any case of extension', async () => {
    expect(await codeOf(join(root, 'data/a.parquet'))).toBe('ok');
    expect(await codeOf(join(root, 'data/b.CSV'))).toBe('ok');
    expect(await codeOf(join(root, 'data/c.tsv.gz'))).toBe('ok');
    expect(formatOf('x.PARQUET')).toBe('parquet');
    expect(formatOf('x.tsv')).toBe('csv');
  });

  it('refuses files outside the roots, hidden, denied, non-data, missing, remote or linking out', async () => {
    const refused = [
      '/etc/passwd',
      join(base, 'outside/o.parquet'),
      join(root, '../outside/o.parquet'),
      join(root, '.hidden/h.parquet'),
      join(root, 'blobs/x.parquet'),
      join(root, 'secret.key'),
      join(root, 'data/missing.parquet'),
      join(root, 'data'),
      join(root, 'data/passwd.csv'),
      join(root, 'data/key.parquet'),
      join(root, 'data/escape.parquet'),
      's3://bucket/x.parquet',
      'https://example.com/x.csv',
    ];
    for (const p of refused) expect(await codeOf(p), p).toBe('INVALID_PATH');
  });

  it('lets the closest folder decide: a root inside a denied folder is readable, the rest of it is not', async () => {
    const nested = await createPathPolicy([join(root, 'keel', 'imports'), root], [join(root, 'keel')]);
    const checkNested = async (p: string) => checkDataFile(nested, p, checkPathShape(nested, p));
    const code = (p: string) =>
      checkNested(p).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
    expect(await code(join(root, 'keel/imports/i.parquet'))).toBe('ok');
    expect(await code(join(root, 'keel/retrievals/r.parquet'))).toBe('INVALID_PATH');
    expect(await code(join(root, 'data/a.parquet'))).toBe('ok');
  });

  it('follows a link from outside into a root to where the file really is', async () => {
    expect(await check(join(base, 'outside/in.parquet')).catch(() => 'refused')).toBe('refused');
    // The shape check alone refuses it: the link itself lies outside every root.
    expect(() => checkPathShape(policy, join(base, 'outside/in.parquet'))).toThrow(/outside the folders/);
  });

  it('checks the folder part of a glob and its extension', () => {
    expect(checkPathShape(policy, join(root, 'data/*.parquet'))).toBe(join(root, 'data/*.parquet'));
    expect(checkPathShape(policy, join(root, '**/*.csv'))).toBe(join(root, '**/*.csv'));
    expect(() => checkPathShape(policy, join(root, 'data/*'))).toThrow(/\.parquet, \.csv/);
    expect(() => checkPathShape(policy, '/etc/*.csv')).toThrow(/outside the folders/);
    expect(() => checkPathShape(policy, join(root, '.hidden/*.parquet'))).toThrow(/hidden/);
  });
});
