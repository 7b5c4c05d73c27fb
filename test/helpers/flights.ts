import { resolve } from 'node:path';

/** The real flights data shipped in vega-datasets (3M rows, Jan–Jun 2001). */
export const flightsParquet = resolve(import.meta.dirname, '../../node_modules/vega-datasets/data/flights-3m.parquet');

/** One day of flights (about 15k rows): big enough to be real, small enough for a 2-core test run. */
export const flightsDayQuery = `SELECT * FROM '${flightsParquet}' WHERE date < '2001-01-02'`;

export interface FlightsContractOptions {
  name?: string;
  policy?: 'strict' | 'warn';
  /** Airport codes an origin may take. */
  airports: string[];
  minRows?: number;
}

/** The flights contract of docs/contracts.md, with the airport list filled in. */
export function flightsContract(o: FlightsContractOptions): string {
  return `
name: ${o.name ?? 'flights'}
policy: ${o.policy ?? 'strict'}
fields:
  date: { type: timestamp, required: true }
  delay: { type: int, required: true, min: -120, max: 1440 }
  distance: { type: int, required: true, min: 1 }
  origin:
    type: string
    required: true
    pattern: '^[A-Z]{3}$'
    allowed: [${o.airports.join(', ')}]
  destination: { type: string, required: true, pattern: '^[A-Z]{3}$' }
freshness: { field: date, max_staleness: 7d }
volume: { min_rows: ${o.minRows ?? 10000} }
`;
}

/** Writes the flights of [from, to) to a Parquet file: tests run on a slice, benchmarks on all. */
export async function writeFlightsSlice(
  engine: { run(sql: string): Promise<void> },
  out: string,
  from = '2001-01-01',
  to = '2001-01-15',
): Promise<void> {
  await engine.run(
    `COPY (SELECT * FROM read_parquet('${flightsParquet}') WHERE date >= TIMESTAMP '${from}' AND date < TIMESTAMP '${to}' ORDER BY date, origin, destination)
     TO '${out}' (FORMAT parquet)`,
  );
}
