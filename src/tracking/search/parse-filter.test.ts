import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/index.ts';
import type { Comparison, Field, FilterNode } from './filter-ast.ts';
import { parseFilter, parseOrderBy } from './parse-filter.ts';

const metric = (key: string): Field => ({ kind: 'metric', key });
const param = (key: string): Field => ({ kind: 'param', key });
const tag = (key: string): Field => ({ kind: 'tag', key });
const attr = (key: string): Field => ({ kind: 'attribute', key });
const cmp = (field: Field, op: Comparison, value: string | number): FilterNode => ({ op: 'cmp', field, cmp: op, value });

function filterError(src: string): AppError {
  try {
    parseFilter(src);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('INVALID_FILTER');
    return e as AppError;
  }
  throw new Error(`expected ${JSON.stringify(src)} to be rejected`);
}

describe('parseFilter', () => {
  it('reads an empty or blank filter as "every run"', () => {
    expect(parseFilter(undefined)).toBeNull();
    expect(parseFilter('')).toBeNull();
    expect(parseFilter('  \n\t')).toBeNull();
  });

  it.each([
    ['metrics.acc > 0.5', cmp(metric('acc'), '>', 0.5)],
    ['metric.acc >= -1e-3', cmp(metric('acc'), '>=', -0.001)],
    ['Metrics.acc < +2', cmp(metric('acc'), '<', 2)],
    ['metrics.val.auc <= 1', cmp(metric('val.auc'), '<=', 1)],
    ['metrics.layer.0.loss = 3', cmp(metric('layer.0.loss'), '=', 3)],
    ['metrics.`val/auc score` != 1', cmp(metric('val/auc score'), '!=', 1)],
    ["params.lr = '0.1'", cmp(param('lr'), '=', '0.1')],
    ['parameters."model.type" = "tree"', cmp(param('model.type'), '=', 'tree')],
    ["tags.team <> 'a'", cmp(tag('team'), '!=', 'a')],
    ["tag.team == 'a'", cmp(tag('team'), '=', 'a')],
    ["status = 'RUNNING'", cmp(attr('status'), '=', 'RUNNING')],
    ["attributes.run_name LIKE 'a%'", cmp(attr('run_name'), 'like', 'a%')],
    ["run.status ILike 'fin%'", cmp(attr('status'), 'ilike', 'fin%')],
    ['attr.end_time > 5', cmp(attr('end_time'), '>', 5)],
    ["params.p = 'it\\'s \"q\"'", cmp(param('p'), '=', 'it\'s "q"')],
  ])('%s', (src, ast) => {
    expect(parseFilter(src)).toEqual(ast);
  });

  it('keeps an unquoted number compared with a param or tag as the string written', () => {
    expect(parseFilter('params.depth > 5')).toEqual(cmp(param('depth'), '>', '5'));
    expect(parseFilter('params.lr = 1.50')).toEqual(cmp(param('lr'), '=', '1.50'));
    expect(parseFilter('tags.n in (1, -2e3)')).toEqual({ op: 'in', field: tag('n'), values: ['1', '-2e3'], negate: false });
  });

  it('reads in and not in lists', () => {
    expect(parseFilter("status IN ('a', 'b')")).toEqual({ op: 'in', field: attr('status'), values: ['a', 'b'], negate: false });
    expect(parseFilter('metrics.x not in (1, 2.5)')).toEqual({ op: 'in', field: metric('x'), values: [1, 2.5], negate: true });
  });

  it('binds and tighter than or, not tighter than and, and honours parentheses', () => {
    const a = cmp(metric('a'), '>', 1);
    const b = cmp(metric('b'), '>', 1);
    const c = cmp(metric('c'), '>', 1);
    expect(parseFilter('metrics.a > 1 and metrics.b > 1 or metrics.c > 1')).toEqual({
      op: 'or',
      args: [{ op: 'and', args: [a, b] }, c],
    });
    expect(parseFilter('metrics.a > 1 OR metrics.b > 1 AND metrics.c > 1')).toEqual({
      op: 'or',
      args: [a, { op: 'and', args: [b, c] }],
    });
    expect(parseFilter('NOT metrics.a > 1 and metrics.b > 1')).toEqual({ op: 'and', args: [{ op: 'not', arg: a }, b] });
    expect(parseFilter('not (metrics.a > 1 or metrics.b > 1) and metrics.c > 1')).toEqual({
      op: 'and',
      args: [{ op: 'not', arg: { op: 'or', args: [a, b] } }, c],
    });
    expect(parseFilter('((metrics.a > 1))')).toEqual(a);
    expect(parseFilter('metrics.a > 1 and metrics.b > 1 and metrics.c > 1')).toEqual({ op: 'and', args: [a, b, c] });
  });

  it.each([
    ["params.p = 'abc", 'unterminated', 12],
    ['foo.bar = 1', "unknown field kind 'foo'", 1],
    ["colour = 'red'", "unknown attribute 'colour'", 1],
    ['metrics.acc >', 'expected a quoted string or a number', 14],
    ['metrics.acc 0.5', 'expected a comparison', 13],
    ["status = 'a' and", 'expected a field', 17],
    ["metrics.x = 'a'", 'metrics.x is numeric', 11],
    ["start_time > '5'", 'start_time is numeric', 12],
    ['status = 1', 'status is a string', 8],
    ["metrics.x like '1%'", 'metrics.x is numeric', 11],
    ["(status = 'a'", "expected ')'", 14],
    ["status = 'a')", 'unexpected text after the end', 13],
    ["status = 'a' ; drop table runs", "unexpected character ';'", 14],
    ["status ! 'a'", "unexpected '!'", 8],
    ["status not like 'a'", "expected 'in' after 'not'", 12],
    ['status = `a`', 'expected a quoted string or a number', 10],
    ["params.p in ('a',)", 'expected a quoted string or a number', 18],
    ['metrics. = 1', 'expected a key name after the dot', 10],
  ])('rejects %j: %s at character %i', (src, message, at) => {
    const e = filterError(src);
    expect(e.message).toContain(message);
    expect(e.message).toContain(`(at character ${at})`);
    expect(e.status).toBe(400);
  });

  it('rejects keys longer than 250 characters', () => {
    expect(parseFilter(`params.${'k'.repeat(250)} = 'v'`)).toEqual(cmp(param('k'.repeat(250)), '=', 'v'));
    expect(filterError(`params.${'k'.repeat(251)} = 'v'`).message).toContain('1 to 250 characters');
  });

  it('allows 50 levels of nesting and rejects 51, for parentheses and for not', () => {
    const leaf = "status = 'a'";
    expect(parseFilter(`${'('.repeat(50)}${leaf}${')'.repeat(50)}`)).toEqual(cmp(attr('status'), '=', 'a'));
    expect(filterError(`${'('.repeat(51)}${leaf}${')'.repeat(51)}`).message).toMatch(/nests too deeply \(at character 51\)/);
    expect(parseFilter(`${'not '.repeat(50)}${leaf}`)).toBeTruthy();
    expect(filterError(`${'not '.repeat(51)}${leaf}`).message).toContain('nests too deeply');
    // Depth is nesting, not count: many siblings at depth one are fine.
    expect(parseFilter(Array.from({ length: 60 }, () => `(${leaf})`).join(' or '))).toMatchObject({ op: 'or' });
  });

  it('rejects filters longer than 4000 characters', () => {
    const atLimit = `tags.t = '${'x'.repeat(3989)}'`;
    expect(atLimit).toHaveLength(4000);
    expect(parseFilter(atLimit)).toEqual(cmp(tag('t'), '=', 'x'.repeat(3989)));
    expect(filterError(`${atLimit} `).message).toContain('longer than 4000 characters');
  });

  it('allows in-lists of up to 1000 values', () => {
    // Short numbers keep 1001 values under the 4000-character limit.
    const list = (n: number) => `metrics.x in (${Array.from({ length: n }, (_, i) => i % 1000).join(',')})`;
    expect(list(1001).length).toBeLessThanOrEqual(4000);
    const values = (parseFilter(list(1000)) as Extract<FilterNode, { op: 'in' }>).values;
    expect(values).toHaveLength(1000);
    expect(values.at(-1)).toBe(999);
    const e = filterError(list(1001));
    expect(e.message).toContain('at most 1000 values');
    expect(e.message).toContain('(at character 11)');
  });
});

describe('parseOrderBy', () => {
  it('defaults to start_time descending', () => {
    const dflt = [{ field: attr('start_time'), desc: true }];
    expect(parseOrderBy(undefined)).toEqual(dflt);
    expect(parseOrderBy([])).toEqual(dflt);
  });

  it('reads keys with an optional direction in any case', () => {
    expect(
      parseOrderBy(['metrics.val.auc  DESC ', 'params.`a b` asc', 'run_name', 'tags.team Desc', 'attributes.end_time']),
    ).toEqual([
      { field: metric('val.auc'), desc: true },
      { field: param('a b'), desc: false },
      { field: attr('run_name'), desc: false },
      { field: tag('team'), desc: true },
      { field: attr('end_time'), desc: false },
    ]);
  });

  it('rejects more than 5 keys, unknown fields and trailing words', () => {
    const codeOf = (items: string[]) => {
      try {
        parseOrderBy(items);
        return 'parsed';
      } catch (e) {
        return (e as AppError).code;
      }
    };
    expect(codeOf(['start_time', 'status', 'run_name', 'metrics.a', 'params.b'])).toBe('parsed');
    expect(codeOf(['start_time', 'status', 'run_name', 'metrics.a', 'params.b', 'tags.c'])).toBe('INVALID_FILTER');
    expect(codeOf(['colour'])).toBe('INVALID_FILTER');
    expect(codeOf(['foo.bar desc'])).toBe('INVALID_FILTER');
    expect(codeOf(['metrics.acc sideways'])).toBe('INVALID_FILTER');
    expect(codeOf([''])).toBe('INVALID_FILTER');
    expect(() => parseOrderBy(['metrics.acc sideways'])).toThrow(
      /cannot read order key 'metrics.acc sideways' \(at character 13\)/,
    );
  });
});
