import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../core/index.ts';
import { type BlobInfo, type BlobStore, digestPattern } from './blob-store.ts';

/** Blobs as files under `<root>/sha256/<2 hex>/<hex>`, written to `<root>/tmp` then renamed. */
export class FsBlobStore implements BlobStore {
  private constructor(private readonly root: string) {}

  static async create(root: string): Promise<FsBlobStore> {
    await mkdir(join(root, 'sha256'), { recursive: true });
    // Leftovers in tmp are uploads a crash interrupted; they were never visible, drop them.
    await rm(join(root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(root, 'tmp'), { recursive: true });
    return new FsBlobStore(root);
  }

  pathOf(digest: string): string {
    if (!digestPattern.test(digest)) throw new AppError('BAD_REQUEST', `'${digest}' is not a sha256 digest`);
    const hex = digest.slice(7);
    return join(this.root, 'sha256', hex.slice(0, 2), hex);
  }

  async put(source: Readable | Uint8Array, opts: { maxBytes?: number } = {}): Promise<BlobInfo> {
    const tmp = join(this.root, 'tmp', `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > max) return cb(new AppError('PAYLOAD_TOO_LARGE', `content exceeds the limit of ${max} bytes`));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const input = source instanceof Uint8Array ? Readable.from([Buffer.from(source)]) : source;
    try {
      await pipeline(input, meter, createWriteStream(tmp));
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${hash.digest('hex')}`;
      const dest = this.pathOf(digest);
      await mkdir(join(dest, '..'), { recursive: true });
      // rename is atomic: readers see the whole blob or none; identical content just replaces itself.
      await rename(tmp, dest);
      return { digest, size };
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async open(digest: string): Promise<Readable> {
    const path = this.pathOf(digest);
    const info = await this.stat(digest);
    if (!info) throw new AppError('NOT_FOUND', `blob ${digest} does not exist`);
    return createReadStream(path);
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('NOT_FOUND', `blob ${digest} does not exist`);
      throw e;
    }
  }

  async stat(digest: string): Promise<BlobInfo | null> {
    try {
      const s = await stat(this.pathOf(digest));
      return { digest, size: s.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Number of in-flight temp files (tests use it to show crashes leave nothing visible). */
  async pendingUploads(): Promise<number> {
    return (await readdir(join(this.root, 'tmp'))).length;
  }
}
