import type { Readable } from 'node:stream';

export interface BlobInfo {
  /** `sha256:<64 hex>` of the content. */
  digest: string;
  size: number;
}

/**
 * Content-addressed blob storage. The same content is stored once; a blob becomes visible
 * only once fully written, so a crash mid-upload never leaves a partial blob behind.
 */
export interface BlobStore {
  /** Streams `source` in, hashing as it goes. Rejects with PAYLOAD_TOO_LARGE past `maxBytes`. */
  put(source: Readable | Uint8Array, opts?: { maxBytes?: number }): Promise<BlobInfo>;
  /** A stream of the blob's bytes; NOT_FOUND when absent. */
  open(digest: string): Promise<Readable>;
  read(digest: string): Promise<Buffer>;
  stat(digest: string): Promise<BlobInfo | null>;
  /**
   * The local file holding a blob, for stores that keep blobs as files; DuckDB reads dataset
   * versions in place through it. Says nothing about whether the blob exists (use `stat`).
   */
  pathOf?(digest: string): string;
}

export const digestPattern = /^sha256:[0-9a-f]{64}$/;
