import { afterAll, describe, expect, it } from 'vitest';
import type { AppError } from '../../core/index.ts';
import { createAnalyticsEngine, duckError } from './duckdb-engine.ts';

describe('AnalyticsEngine (DuckDB)', async () => {
  const engine = await createAnalyticsEngine({ threads: 2 });
  afterAll(() => engine.close());

  it('returns rows and columns as JS values, with safe BIGINTs as numbers', async () => {
    await engine.run('create table t as select range as i, range * 2 as j, ? as s from range(3)', ['x']);
    expect(await engine.all('select i, j, s from t order by i')).toEqual([
      { i: 0, j: 0, s: 'x' },
      { i: 1, j: 2, s: 'x' },
      { i: 2, j: 4, s: 'x' },
    ]);
    const cols = await engine.columns('select i, j from t order by i');
    expect(cols).toEqual({
      names: ['i', 'j'],
      columns: [
        [0, 1, 2],
        [0, 2, 4],
      ],
    });
    expect((await engine.all('select 9007199254740993::bigint as big'))[0]?.big).toBe(9007199254740993n);
  });

  it('maps query errors to a 400 naming what failed', async () => {
    const err = (await engine.all('select nope from t').catch((e: unknown) => duckError(e, 'bad query'))) as AppError;
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/^bad query: .*nope/);
  });
});
