import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/index.ts';
import { type BlobStore, FakeBlobStore, FsBlobStore } from '../../src/storage/index.ts';

const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Emits `good` chunks, then fails, as a dropped upload connection does. */
function failingSource(good: Buffer[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      const next = good[i++];
      if (next) this.push(next);
      else this.destroy(new Error('connection reset'));
    },
  });
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const tempDirs: string[] = [];
const newDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keel-blobs-'));
  tempDirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface BlobAdapter {
  name: string;
  make(): Promise<BlobStore>;
  /** Uploads begun but neither finished nor cleaned up (0 for the fake: it holds nothing partial). */
  pending(store: BlobStore): Promise<number>;
}

const adapters: BlobAdapter[] = [
  {
    name: 'FsBlobStore',
    make: async () => FsBlobStore.create(await newDir()),
    pending: (s) => (s as FsBlobStore).pendingUploads(),
  },
  { name: 'FakeBlobStore', make: async () => new FakeBlobStore(), pending: async () => 0 },
];

describe.each(adapters)('blob store contract [$name]', ({ make, pending }) => {
  it('stores the same content under the same digest', async () => {
    const store = await make();
    const data = Buffer.from('same bytes, twice');
    const a = await store.put(data);
    const b = await store.put(Readable.from([data]));
    expect(a).toEqual({ digest: digestOf(data), size: data.length });
    expect(b).toEqual(a);
    expect(await store.stat(a.digest)).toEqual(a);
    expect(await pending(store)).toBe(0);
  });

  it('round-trips bytes through read and open, and the stored copy cannot be changed by callers', async () => {
    const store = await make();
    const data = randomBytes(200_000);
    const input = Buffer.from(data);
    const info = await store.put(input);
    input.fill(0);
    const read = await store.read(info.digest);
    expect(read.equals(data)).toBe(true);
    read.fill(1);
    expect((await store.read(info.digest)).equals(data)).toBe(true);
    expect((await drain(await store.open(info.digest))).equals(data)).toBe(true);
  });

  it('hashes a stream of several chunks as their concatenation', async () => {
    const store = await make();
    const chunks = [Buffer.from('alpha-'), randomBytes(70_000), Buffer.alloc(0), Buffer.from('-omega')];
    const whole = Buffer.concat(chunks);
    const info = await store.put(Readable.from(chunks));
    expect(info).toEqual({ digest: digestOf(whole), size: whole.length });
    expect((await store.read(info.digest)).equals(whole)).toBe(true);
  });

  it('accepts exactly maxBytes and rejects more with PAYLOAD_TOO_LARGE, leaving nothing visible', async () => {
    const store = await make();
    const data = randomBytes(1000);
    expect((await store.put(data, { maxBytes: 1000 })).size).toBe(1000);

    const big = Buffer.concat([data, Buffer.from('x')]);
    const e = await rejection(store.put(Readable.from([big.subarray(0, 600), big.subarray(600)]), { maxBytes: 1000 }));
    expect(e.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await store.stat(digestOf(big))).toBeNull();
    expect(await pending(store)).toBe(0);
  });

  it('reports an unknown digest as NOT_FOUND on open and read, and null on stat', async () => {
    const store = await make();
    const unknown = digestOf(Buffer.from('never stored'));
    expect((await rejection(store.open(unknown))).code).toBe('NOT_FOUND');
    expect((await rejection(store.read(unknown))).code).toBe('NOT_FOUND');
    expect(await store.stat(unknown)).toBeNull();
  });

  it.each([
    'sha256:abc',
    'md5:d41d8cd98f00b204e9800998ecf8427e',
    `sha256:${'A'.repeat(64)}`,
    `sha256:../../${'0'.repeat(58)}`,
    '',
  ])('rejects the malformed digest %j with a 4xx on open, read and stat', async (digest) => {
    const store = await make();
    for (const op of [store.open(digest), store.read(digest), store.stat(digest)]) {
      const e = await rejection(op);
      expect(e.status).toBeGreaterThanOrEqual(400);
      expect(e.status).toBeLessThan(500);
    }
  });

  it('leaves nothing visible when the source fails mid-way', async () => {
    const store = await make();
    const good = [randomBytes(10_000), randomBytes(10_000)];
    await expect(store.put(failingSource(good))).rejects.toThrow('connection reset');
    expect(await store.stat(digestOf(Buffer.concat(good)))).toBeNull();
    expect(await store.stat(digestOf(good[0] as Buffer))).toBeNull();
    expect(await pending(store)).toBe(0);
  });
});

describe('FsBlobStore on disk', () => {
  it('writes identical content to one file', async () => {
    const root = await newDir();
    const store = await FsBlobStore.create(root);
    const data = Buffer.from('dedupe me');
    await store.put(data);
    await store.put(data);
    await store.put(Buffer.from('something else'));
    expect(await filesUnder(join(root, 'sha256'))).toHaveLength(2);
  });

  it('drops uploads a crash left in tmp when it is created again, and keeps finished blobs', async () => {
    const root = await newDir();
    const first = await FsBlobStore.create(root);
    const kept = await first.put(Buffer.from('finished before the crash'));
    await writeFile(join(root, 'tmp', 'interrupted-upload'), randomBytes(512));
    expect(await first.pendingUploads()).toBe(1);

    const reopened = await FsBlobStore.create(root);
    expect(await reopened.pendingUploads()).toBe(0);
    expect(await reopened.stat(kept.digest)).toEqual(kept);
    expect((await reopened.read(kept.digest)).toString()).toBe('finished before the crash');
  });
});
