import { resolve } from 'node:path';
import type { AnalyticsEngine } from '../../src/storage/index.ts';

/** The real flights data shipped by vega-datasets (3M flights, Jan–Jun 2001). */
export const flightsParquet = resolve('node_modules/vega-datasets/data/flights-3m.parquet');

/** Writes the flights of [from, to) to a Parquet file: tests run on a slice, benchmarks on all. */
export async function writeFlightsSlice(engine: AnalyticsEngine, out: string, from = '2001-01-01', to = '2001-01-15'): Promise<void> {
  await engine.run(
    `COPY (SELECT * FROM read_parquet('${flightsParquet}') WHERE date >= TIMESTAMP '${from}' AND date < TIMESTAMP '${to}' ORDER BY date, origin, destination)
     TO '${out}' (FORMAT parquet)`,
  );
}
