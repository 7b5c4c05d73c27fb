import { randomBytes } from 'node:crypto';

/** Resource prefixes; an id tells what it names without a lookup. */
export const idPrefixes = {
  project: 'prj',
  apiKey: 'key',
  audit: 'aud',
  experiment: 'exp',
  run: 'run',
  model: 'mdl',
  modelVersion: 'mv',
  aliasMove: 'alm',
  retrieval: 'ret',
  job: 'job',
  dataset: 'ds',
  datasetVersion: 'dsv',
  pipeline: 'pl',
  pipelineRun: 'plr',
  deployment: 'dep',
} as const;

export type IdKind = keyof typeof idPrefixes;

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Random part in base36: 16 chars ≈ 82 bits, enough to never collide in one deployment. */
export function newId(kind: IdKind, length = 16): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % 36];
  return `${idPrefixes[kind]}_${out}`;
}

export function hasPrefix(id: string, kind: IdKind): boolean {
  return id.startsWith(`${idPrefixes[kind]}_`);
}
