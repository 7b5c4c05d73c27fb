import { describe, expect, it } from 'vitest';
import { compareRuns, evaluateFilter, likeToRegExp, type RunView } from './evaluate-filter.ts';
import { parseFilter, parseOrderBy } from './parse-filter.ts';

const like = (pattern: string, value: string) => likeToRegExp(pattern, false).test(value);
const ilike = (pattern: string, value: string) => likeToRegExp(pattern, true).test(value);

describe('likeToRegExp', () => {
  it('treats % as any run of characters and _ as exactly one, newlines included', () => {
    expect(like('a%', 'a')).toBe(true);
    expect(like('a%', 'abc\ndef')).toBe(true);
    expect(like('%b%', 'abc')).toBe(true);
    expect(like('a_c', 'abc')).toBe(true);
    expect(like('a_c', 'a\nc')).toBe(true);
    expect(like('a_c', 'ac')).toBe(false);
    expect(like('a_c', 'abbc')).toBe(false);
    expect(like('%', '')).toBe(true);
    expect(like('_', '')).toBe(false);
  });

  it('matches the whole value, not a substring', () => {
    expect(like('b', 'abc')).toBe(false);
    expect(like('abc', 'abcd')).toBe(false);
    expect(like('abc', 'abc')).toBe(true);
  });

  it.each(['.', '(x)', '[ab]', 'a+b', 'a*', 'a?', '^a$', '{1}', 'a|b', '\\d', '$^'])(
    'matches the regex metacharacters in %j literally',
    (pattern) => {
      expect(like(pattern, pattern)).toBe(true);
    },
  );

  it('does not let metacharacters act as regex operators', () => {
    expect(like('.', 'x')).toBe(false);
    expect(like('a.c', 'abc')).toBe(false);
    expect(like('(x)', 'x')).toBe(false);
    expect(like('[ab]', 'a')).toBe(false);
    expect(like('a+', 'aa')).toBe(false);
    expect(like('a|b', 'a')).toBe(false);
    expect(like('\\d', '1')).toBe(false);
    expect(like('c\\d', 'cd')).toBe(false);
  });

  it('is case-sensitive for like and not for ilike', () => {
    expect(like('Prod%', 'production')).toBe(false);
    expect(ilike('Prod%', 'production')).toBe(true);
    expect(ilike('A_C', 'abc')).toBe(true);
    expect(ilike('X.Y', 'x.y')).toBe(true);
    expect(ilike('X.Y', 'xay')).toBe(false);
  });
});

const view = (over: Partial<RunView> = {}): RunView => ({
  attributes: { id: 'run_1', name: 'Alpha', status: 'FINISHED', start_time: 100, end_time: null, experiment_id: 'exp_1' },
  metrics: new Map([
    ['acc', 0.75],
    ['val.auc', 0.5],
  ]),
  params: new Map([
    ['depth', '10'],
    ['note', '50%_off'],
    ['path', 'c\\d'],
  ]),
  tags: new Map([['team', 'a']]),
  ...over,
});

const matches = (filter: string, v: RunView = view()) => evaluateFilter(parseFilter(filter), v);

describe('evaluateFilter', () => {
  it('matches everything without a filter', () => {
    expect(evaluateFilter(null, view())).toBe(true);
  });

  it('compares metrics as numbers and params as strings', () => {
    expect(matches('metrics.acc > 0.5')).toBe(true);
    expect(matches('metrics.acc = 0.75')).toBe(true);
    expect(matches('metrics.val.auc < 0.5')).toBe(false);
    // '10' < '9' as strings: params are strings even when they look numeric.
    expect(matches('params.depth < 9')).toBe(true);
    expect(matches("params.depth > '9'")).toBe(false);
  });

  it('never matches a missing key or a NULL attribute, whatever the operator', () => {
    expect(matches('metrics.missing != 1')).toBe(false);
    expect(matches("tags.missing != 'x'")).toBe(false);
    expect(matches("tags.missing not in ('x')")).toBe(false);
    expect(matches('end_time > 0')).toBe(false);
    expect(matches('end_time < 0')).toBe(false);
    // not of a non-match is a match, as in SQL with the NULL made false.
    expect(matches('not metrics.missing > 1')).toBe(true);
    expect(matches('not end_time > 0')).toBe(true);
  });

  it('evaluates like, ilike, in and not in on values', () => {
    expect(matches("params.note like '50%'")).toBe(true);
    expect(matches("params.note like '50__off'")).toBe(true);
    expect(matches("params.note like '50_off'")).toBe(false);
    // The filter's quoting takes one backslash; what reaches LIKE is matched literally.
    expect(matches("params.path like 'c\\\\d'")).toBe(true);
    expect(matches("params.path like 'c\\d'")).toBe(false);
    expect(matches("params.path like 'c_d'")).toBe(true);
    expect(matches("run_name like 'alpha'")).toBe(false);
    expect(matches("run_name ilike 'alpha'")).toBe(true);
    expect(matches("status in ('FAILED', 'FINISHED')")).toBe(true);
    expect(matches("status not in ('FAILED', 'FINISHED')")).toBe(false);
    expect(matches('metrics.acc in (0.5, 0.75)')).toBe(true);
  });

  it('combines with and, or and not', () => {
    expect(matches("metrics.acc > 0.9 or tags.team = 'a'")).toBe(true);
    expect(matches("metrics.acc > 0.9 and tags.team = 'a'")).toBe(false);
    expect(matches("not (metrics.acc > 0.9 or tags.team = 'b')")).toBe(true);
  });
});

describe('compareRuns', () => {
  const a = view({ attributes: { id: 'run_a', start_time: 5, end_time: null }, metrics: new Map([['acc', 0.1]]) });
  const b = view({ attributes: { id: 'run_b', start_time: 5, end_time: 9 }, metrics: new Map() });
  const c = view({ attributes: { id: 'run_c', start_time: 7, end_time: 3 }, metrics: new Map([['acc', 0.9]]) });
  const sort = (order: string[] | undefined) =>
    [b, c, a].sort((x, y) => compareRuns(parseOrderBy(order), x, y)).map((v) => v.attributes.id);

  it('orders each key in its direction, missing values last either way, then by id', () => {
    expect(sort(undefined)).toEqual(['run_c', 'run_a', 'run_b']);
    expect(sort(['metrics.acc'])).toEqual(['run_a', 'run_c', 'run_b']);
    expect(sort(['metrics.acc desc'])).toEqual(['run_c', 'run_a', 'run_b']);
    expect(sort(['end_time'])).toEqual(['run_c', 'run_b', 'run_a']);
    expect(sort(['end_time desc'])).toEqual(['run_b', 'run_c', 'run_a']);
    expect(sort(['tags.missing desc'])).toEqual(['run_a', 'run_b', 'run_c']);
  });
});
