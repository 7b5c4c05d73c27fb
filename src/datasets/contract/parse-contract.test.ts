import { describe, expect, it } from 'vitest';
import type { AppError } from '../../core/index.ts';
import { parseContract, parseThreshold } from './parse-contract.ts';

const issuesOf = (yaml: string): { code: string; message: string; paths: string[] } => {
  try {
    parseContract(yaml);
  } catch (e) {
    const err = e as AppError;
    const issues = (err.details as { issues: { path: string }[] }).issues;
    return { code: err.code, message: err.message, paths: issues.map((i) => i.path) };
  }
  throw new Error('expected the contract to be refused');
};

describe('parseContract', () => {
  it('reads the flights contract with every kind of rule', () => {
    const c = parseContract(`
name: flights
policy: warn
fields:
  date: { type: timestamp, required: true, min: '2001-01-01' }
  delay: { type: int, nullable: false, min: -120, max: 1800 }
  origin: { type: string, pattern: '^[A-Z]{3}$', allowed: [ATL, ORD, ATL] }
  id: { type: int, unique: true }
freshness: { field: date, max_staleness: 7d, as_of: '2001-01-10T00:00:00Z' }
volume: { min_rows: 100 }
quality:
  - null_share: { field: origin, mustBeLessThan: 1% }
  - invalid_share: { field: origin, mustBeLessThan: 10 rows }
`);
    expect(c.policy).toBe('warn');
    expect(c.fields.date).toEqual({ type: 'timestamp', required: true, unique: false, min: Date.parse('2001-01-01') });
    expect(c.fields.delay).toEqual({ type: 'int', required: true, unique: false, min: -120, max: 1800 });
    expect(c.fields.origin?.allowed).toEqual(['ATL', 'ORD']);
    expect(c.fields.id?.unique).toBe(true);
    expect(c.freshness).toEqual({
      field: 'date',
      maxStalenessMs: 7 * 86_400_000,
      maxStaleness: '7d',
      asOf: Date.parse('2001-01-10T00:00:00Z'),
    });
    expect(c.volume).toEqual({ minRows: 100 });
    expect(c.quality).toEqual([
      { kind: 'null_share', field: 'origin', threshold: { value: 1, unit: 'percent' } },
      { kind: 'invalid_share', field: 'origin', threshold: { value: 10, unit: 'rows' } },
    ]);
  });

  it('defaults the policy to strict', () => {
    expect(parseContract('name: x\nfields: { a: { type: bool } }').policy).toBe('strict');
  });

  it('reads thresholds in rows or percent and refuses the rest', () => {
    expect(parseThreshold('1%')).toEqual({ value: 1, unit: 'percent' });
    expect(parseThreshold('0.5 %')).toEqual({ value: 0.5, unit: 'percent' });
    expect(parseThreshold('10 rows')).toEqual({ value: 10, unit: 'rows' });
    expect(parseThreshold('1 row')).toEqual({ value: 1, unit: 'rows' });
    expect(parseThreshold(25)).toEqual({ value: 25, unit: 'rows' });
    for (const bad of ['0%', '101%', 'ten', '-1', 0, '1 percent']) expect(parseThreshold(bad)).toBeNull();
  });

  it('refuses malformed YAML and non-mappings as INVALID_CONTRACT', () => {
    const malformed = issuesOf('name: x\nfields: {a: [');
    expect(malformed.code).toBe('INVALID_CONTRACT');
    expect(malformed.message).toMatch(/malformed YAML/);
    expect(issuesOf('- a\n- b').message).toMatch(/YAML mapping/);
    expect(issuesOf('name: x\nname: y').message).toMatch(/malformed YAML/);
  });

  it('names the path of an unknown type, an unknown key and a wrong value', () => {
    expect(issuesOf('name: x\nfields: { delay: { type: integer } }')).toMatchObject({
      paths: ['fields.delay.type'],
      message: expect.stringMatching(/fields\.delay\.type: unknown type; use one of string, int, float, bool, timestamp, date/),
    });
    expect(issuesOf('name: x\nfields: { delay: { type: int, minn: 1 } }').paths).toEqual(['fields.delay']);
    expect(issuesOf('name: x\nfields: {}\nvolumes: {min_rows: 1}').paths).toEqual(['']);
    expect(issuesOf('name: x\nfields: { d: { type: int, min: low } }').paths).toEqual(['fields.d.min']);
    expect(issuesOf('name: "bad name"').paths).toEqual(['name']);
  });

  it('refuses rules that cannot apply to the field type or contradict each other', () => {
    const cases: [string, string][] = [
      ['fields: { a: { type: string, min: 1 } }', 'fields.a.min'],
      ['fields: { a: { type: int, pattern: "x" } }', 'fields.a.pattern'],
      ['fields: { a: { type: string, pattern: "(" } }', 'fields.a.pattern'],
      ['fields: { a: { type: int, allowed: [1, x] } }', 'fields.a.allowed.1'],
      ['fields: { a: { type: int, min: 5, max: 1 } }', 'fields.a.min'],
      ['fields: { a: { type: int, required: true, nullable: true } }', 'fields.a.nullable'],
      ['fields: { a: { type: int } }\nfreshness: { field: a, max_staleness: 7d }', 'freshness.field'],
      ['fields: { a: { type: date } }\nfreshness: { field: a, max_staleness: soon }', 'freshness.max_staleness'],
      [
        'fields: { a: { type: int, required: true } }\nquality: [{ null_share: { field: a, mustBeLessThan: 1% } }]',
        'quality.0.null_share.field',
      ],
      [
        'fields: { a: { type: int } }\nquality: [{ invalid_share: { field: a, mustBeLessThan: 1% } }]',
        'quality.0.invalid_share.field',
      ],
      [
        'fields: { a: { type: int } }\nquality: [{ null_share: { field: a, mustBeLessThan: 200% } }]',
        'quality.0.null_share.mustBeLessThan',
      ],
      ['volume: {}', 'volume'],
    ];
    for (const [body, path] of cases) expect(issuesOf(`name: x\n${body}`).paths, body).toEqual([path]);
  });
});
