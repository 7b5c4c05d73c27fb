import { parseFilter, parseOrderBy, type RunSearchQuery } from '../../src/tracking/index.ts';

/** The body of POST /api/v1/runs/search. */
export interface SearchBody {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  maxResults: number;
}

export interface SearchKind {
  name: string;
  /** The request for the i-th operation; constants vary so no two neighbours are the same. */
  body(i: number, experimentIds: string[]): SearchBody;
}

/** An MLflow-style mix: filter + metric order, the default listing, and an in/or filter. */
export const searchKinds: SearchKind[] = [
  {
    name: 'filter + order by metric',
    body: (i, experimentIds) => ({
      experimentIds,
      filter: `metrics.m3 > ${(0.3 + (i % 5) * 0.1).toFixed(1)} and params.p2 = 'v${i % 10}'`,
      orderBy: ['metrics.m1 DESC'],
      maxResults: 100,
    }),
  },
  {
    name: 'list by start_time',
    body: (_i, experimentIds) => ({ experimentIds, orderBy: ['attributes.start_time DESC'], maxResults: 100 }),
  },
  {
    name: 'in / or filter',
    body: (i, experimentIds) => ({
      experimentIds,
      filter: `params.p5 in ('v${i % 10}', 'v${(i + 3) % 10}') or metrics.m7 < 0.0${1 + (i % 9)}`,
      maxResults: 100,
    }),
  },
];

/**
 * The store query the service builds for a body: the same parsed filter and order, and one row
 * more than asked for, which the service uses to decide whether there is a next page.
 */
export function storeQuery(body: SearchBody): RunSearchQuery {
  return {
    projectIds: '*',
    experimentIds: body.experimentIds,
    filter: parseFilter(body.filter),
    order: parseOrderBy(body.orderBy),
    limit: body.maxResults + 1,
  };
}
