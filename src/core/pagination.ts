import { AppError } from './errors.ts';

/** Opaque keyset cursors: base64url JSON of the last row's sort key. */
export function encodePageToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodePageToken<T>(token: string, check: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('INVALID_PAGE_TOKEN', 'page_token is not a token this server issued');
  }
  if (!check(value)) throw new AppError('INVALID_PAGE_TOKEN', 'page_token is not a token this server issued');
  return value;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | null;
}
