import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError } from '../../core/index.ts';
import { type BlobInfo, type BlobStore, digestPattern } from './blob-store.ts';

/** In-memory BlobStore for unit tests; same contract as the filesystem store. */
export class FakeBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();

  async put(source: Readable | Uint8Array, opts: { maxBytes?: number } = {}): Promise<BlobInfo> {
    const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const chunks: Buffer[] = [];
    let size = 0;
    const input = source instanceof Uint8Array ? [Buffer.from(source)] : source;
    for await (const chunk of input) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += buf.length;
      if (size > max) throw new AppError('PAYLOAD_TOO_LARGE', `content exceeds the limit of ${max} bytes`);
      chunks.push(buf);
    }
    const data = Buffer.concat(chunks);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    this.blobs.set(digest, data);
    return { digest, size: data.length };
  }

  private get(digest: string): Buffer {
    if (!digestPattern.test(digest)) throw new AppError('BAD_REQUEST', `'${digest}' is not a sha256 digest`);
    const data = this.blobs.get(digest);
    if (!data) throw new AppError('NOT_FOUND', `blob ${digest} does not exist`);
    return data;
  }

  // Copies out, as the filesystem store reads fresh bytes: a caller mutating its buffer must not change the blob.
  async open(digest: string): Promise<Readable> {
    return Readable.from([Buffer.from(this.get(digest))]);
  }

  async read(digest: string): Promise<Buffer> {
    return Buffer.from(this.get(digest));
  }

  async stat(digest: string): Promise<BlobInfo | null> {
    if (!digestPattern.test(digest)) throw new AppError('BAD_REQUEST', `'${digest}' is not a sha256 digest`);
    const data = this.blobs.get(digest);
    return data ? { digest, size: data.length } : null;
  }
}
