import type { SqlRunStore } from '../../src/tracking/index.ts';
import type { BenchHttpClient } from '../lib/http-client.ts';
import { alternate, type LatencyStats, runClosedLoop } from '../lib/stats.ts';
import { type SearchKind, storeQuery } from './workload.ts';

export interface SearchResult {
  kind: string;
  keel: LatencyStats;
  direct: LatencyStats;
  /** The same, one request at a time: the latency of a lone user, comparable to MLflow's figures. */
  single: { keel: LatencyStats; direct: LatencyStats };
}

export interface SearchOptions {
  experimentIds: string[];
  clients: number;
  requests: number;
  warmup: number;
  /** Keel and direct take turns this many times each, so load changes hit both alike. */
  rounds: number;
  /** Requests per side for the one-client series. */
  singleRequests: number;
}

/**
 * One query kind: the server's answer is first checked against the direct one, then both are
 * warmed up and timed in alternating rounds with the same concurrency and request sequence.
 */
export async function benchSearchKind(
  kind: SearchKind,
  client: BenchHttpClient,
  store: SqlRunStore,
  opts: SearchOptions,
): Promise<SearchResult> {
  const total = opts.warmup + Math.max(opts.requests, opts.singleRequests);
  const bodies = Array.from({ length: total }, (_, i) => kind.body(i, opts.experimentIds));
  const json = bodies.map((b) => JSON.stringify(b));
  // Parsing the filter string is Keel's work, not the database's: the baseline starts from the parsed query.
  const queries = bodies.map(storeQuery);

  const viaApi = JSON.parse((await client.expect('POST', '/api/v1/runs/search', json[0], 200)).toString()) as {
    runs: { id: string }[];
  };
  const direct = (await store.search(queries[0] as ReturnType<typeof storeQuery>)).slice(0, bodies[0]?.maxResults);
  const a = viaApi.runs.map((r) => r.id).join(',');
  const b = direct.map((r) => r.id).join(',');
  if (a !== b) throw new Error(`'${kind.name}': the API and the direct query returned different runs`);
  if (!a) throw new Error(`'${kind.name}' matched no runs: the workload does not fit the seeded data`);

  const http = (i: number) => client.expect('POST', '/api/v1/runs/search', json[i], 200).then(() => undefined);
  const sql = (i: number) => store.search(queries[i] as ReturnType<typeof storeQuery>).then(() => undefined);
  await runClosedLoop(0, opts.warmup, opts.clients, http);
  await runClosedLoop(0, opts.warmup, opts.clients, sql);
  // Both sides answer the same request sequence, the one after the warm-up requests.
  const { a: keel, b: base } = await alternate(opts.requests, opts.rounds, (side, from, to, into) =>
    runClosedLoop(opts.warmup + from, opts.warmup + to, opts.clients, side === 'a' ? http : sql, into),
  );
  const single = await alternate(opts.singleRequests, 4, (side, from, to, into) =>
    runClosedLoop(opts.warmup + from, opts.warmup + to, 1, side === 'a' ? http : sql, into),
  );
  return { kind: kind.name, keel, direct: base, single: { keel: single.a, direct: single.b } };
}
