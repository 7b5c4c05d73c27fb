import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { fastAcceptOf, keelValidatorCompiler } from './fast-validation.ts';
import { inferBody, modelParams, versionParams } from './routes/oip-schemas.ts';
import { projectQuery } from './routes/schemas.ts';

/** A small deterministic generator, so a failure names a case that can be run again. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const oddValues: unknown[] = [
  undefined,
  null,
  0,
  -1.5,
  true,
  '',
  'x',
  'é😀',
  'n'.repeat(64),
  'n'.repeat(65),
  'n'.repeat(128),
  'n'.repeat(129),
  'n'.repeat(256),
  'n'.repeat(257),
  'n'.repeat(1024),
  'n'.repeat(1025),
  [],
  [1, 2],
  {},
  { a: 1 },
  { ['k'.repeat(257)]: 1 },
  Array.from({ length: 1001 }, () => ({ name: 'x', shape: [1], datatype: 'FP32', data: [1] })),
];

/** Every path to a value inside `v` (objects and arrays), the root included. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) out.push(...paths((v as never)[k], [...at, k]));
  return out;
}

const clone = <T>(v: T): T => structuredClone(v);

/** `seed` with one change at a random place: a value swapped, a key dropped, or a key added. */
function mutate(seed: unknown, next: () => number): unknown {
  const v = clone(seed);
  const all = paths(v);
  const path = all[Math.floor(next() * all.length)] as (string | number)[];
  const odd = oddValues[Math.floor(next() * oddValues.length)];
  if (path.length === 0) return odd;
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as never)[k], v) as Record<string | number, unknown>;
  const key = path[path.length - 1] as string | number;
  const roll = next();
  if (roll < 0.6) parent[key] = odd;
  else if (roll < 0.8 && !Array.isArray(parent)) delete parent[key];
  else if (!Array.isArray(parent))
    parent[['extra', 'parameters', 'outputs', 'id', 'project', 'version'][Math.floor(next() * 6)] as string] = odd;
  return v;
}

const inferSeeds: unknown[] = [
  { inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] },
  {
    id: 'r-1',
    parameters: { timeout: 100, priority: 2 },
    inputs: [
      { name: 'a', shape: [1], datatype: 'INT64', data: [1], parameters: { k: 'v' } },
      { name: 'b', shape: [1, 1], datatype: 'BYTES', data: [['x']] },
    ],
    outputs: [{ name: 'y' }, { name: 'z', parameters: { binary_data: false } }],
  },
  { inputs: [] },
  { id: '', inputs: [{ name: '', shape: null, datatype: null, data: null }], outputs: [] },
];

const cases: { name: string; schema: z.ZodType; seeds: unknown[] }[] = [
  { name: 'inferBody', schema: inferBody, seeds: inferSeeds },
  { name: 'projectQuery', schema: projectQuery, seeds: [{}, { project: 'default' }] },
  { name: 'modelParams', schema: modelParams, seeds: [{ name: 'm' }] },
  { name: 'versionParams', schema: versionParams, seeds: [{ name: 'm', version: '3' }] },
];

describe('fast validation paths', () => {
  for (const { name, schema, seeds } of cases) {
    const accept = fastAcceptOf(schema);

    it(`${name}: takes the well-formed requests the fast way`, () => {
      expect(accept).toBeDefined();
      for (const seed of seeds) expect(accept?.(seed), JSON.stringify(seed)).toBe(true);
    });

    it(`${name}: never takes a value zod refuses, and takes only values zod returns unchanged`, () => {
      const next = rng(name.length * 7919);
      let accepted = 0;
      let refused = 0;
      for (let i = 0; i < 4000; i++) {
        const seed = seeds[i % seeds.length];
        const value = i % 5 === 0 ? seed : mutate(i % 3 === 0 ? mutate(seed, next) : seed, next);
        if (!accept?.(value)) {
          refused++;
          continue;
        }
        accepted++;
        const parsed = schema.safeParse(value);
        expect(parsed.success, `case ${i}: ${JSON.stringify(value)?.slice(0, 300)}`).toBe(true);
        expect(parsed.data, `case ${i}`).toEqual(value);
      }
      // The corpus exercised both answers.
      expect(accepted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    });
  }

  it('the validator hands back the request itself on the fast path, and zod’s answer otherwise', () => {
    const validate = keelValidatorCompiler({
      schema: inferBody,
      method: 'POST',
      url: '/v2/models/:name/infer',
      httpPart: 'body',
    });
    const good = inferSeeds[0];
    expect(validate(good)).toEqual({ value: good });
    expect((validate(good) as { value: unknown }).value).toBe(good);
    const withExtra = { ...(good as object), extra: 1 };
    const stripped = validate(withExtra) as { value: unknown };
    expect(stripped.value).toEqual(good);
    const bad = validate({ id: 7, inputs: [] }) as { error?: unknown };
    expect(bad.error).toBeDefined();
  });

  it('schemas without a fast path validate through zod alone', () => {
    const validate = keelValidatorCompiler({
      schema: projectQuery.extend({}),
      method: 'GET',
      url: '/x',
      httpPart: 'querystring',
    });
    const q = { project: 'p' };
    const res = validate(q) as { value: unknown };
    expect(res.value).toEqual(q);
    expect(res.value).not.toBe(q);
  });
});
