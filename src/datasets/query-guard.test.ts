import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnalyticsEngine, createAnalyticsEngine } from '../storage/index.ts';
import { inspectQuery } from './query-guard.ts';

describe('inspectQuery', () => {
  let engine: AnalyticsEngine;
  beforeAll(async () => {
    engine = await createAnalyticsEngine({ threads: 1 });
  });
  afterAll(() => engine.close());

  it('reports the tables and reader paths of a SELECT, minus its CTEs', async () => {
    const reads = await inspectQuery(
      engine,
      `WITH recent AS (SELECT * FROM flights WHERE delay > 0)
       SELECT * FROM recent JOIN 'airports.csv' a ON a.code = recent.origin
       WHERE origin IN (SELECT code FROM read_csv(['x.csv', 'y.csv'], header = true))
         AND delay < (SELECT max(d) FROM read_parquet('data/*.parquet') p(d))
         AND distance IN (SELECT range FROM range(10));`,
    );
    expect(reads.tables.sort()).toEqual(['airports.csv', 'flights']);
    expect(reads.files.sort()).toEqual(['data/*.parquet', 'x.csv', 'y.csv']);
  });

  it('refuses anything but one SELECT, and table functions that are not file readers or generators', async () => {
    const refused: [string, RegExp][] = [
      ["COPY (SELECT 1) TO 'x.csv'", /only a SELECT/],
      ['SELECT 1; SELECT 2', /exactly one/],
      ["ATTACH 'x.db'", /only a SELECT/],
      ["SELECT * FROM read_text('/etc/passwd')", /read_text\(\) is not allowed/],
      ["SELECT * FROM glob('/*')", /glob\(\) is not allowed/],
      ["SELECT * FROM query_table('t')", /query_table\(\) is not allowed/],
      ["SELECT * FROM read_csv('/etc/' || 'passwd')", /string literal/],
      ['SELECT * FROM information_schema.tables', /schemas and catalogs/],
      ['SELECT * FROM (DESCRIBE SELECT 1)', /DESCRIBE/],
      ['SELEC 1', /syntax error/],
    ];
    for (const [sql, message] of refused) {
      await expect(inspectQuery(engine, sql), sql).rejects.toMatchObject({ code: 'BAD_REQUEST', message });
    }
  });
});
