import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPrincipal } from '../../src/auth/index.ts';
import { ManualClock } from '../../src/core/index.ts';
import { FakeBlobStore } from '../../src/storage/index.ts';
import { parseOrderBy, type RunWithData, type SearchRunsInput, TrackingService } from '../../src/tracking/index.ts';
import { type Backend, type BackendName, backendNames, openBackend, postgresSkipReason } from '../helpers/sql-backends.ts';
import { filterCases, orderings } from './run-search-cases.ts';
import { buildDataset, loadDataset, type SeedRun } from './run-search-dataset.ts';

const dataset = buildDataset(20_240_601, 150);
const byId = new Map(dataset.map((r) => [r.id, r]));
const skip = await postgresSkipReason();
const names: BackendName[] = backendNames.filter((n) => n !== 'postgres' || skip === null);

type Value = string | number | null;

/** The order the contract promises, written out here: keys in turn, missing last, then id. */
function expectedOrder(runs: SeedRun[], orderBy: string[] | undefined): string[] {
  const keys = parseOrderBy(orderBy);
  const value = (r: SeedRun, kind: string, key: string): Value => {
    if (kind === 'metric') return r.metrics[key] ?? null;
    if (kind === 'param') return r.params[key] ?? null;
    if (kind === 'tag') return r.tags[key] ?? null;
    const attrs: Record<string, Value> = {
      start_time: r.startTime,
      end_time: r.endTime,
      run_name: r.name,
      status: r.status,
      experiment_id: r.experimentId,
    };
    if (!(key in attrs)) throw new Error(`add attribute ${key} to the oracle`);
    return attrs[key] ?? null;
  };
  const cmp = (a: SeedRun, b: SeedRun): number => {
    for (const k of keys) {
      const va = value(a, k.field.kind, k.field.key);
      const vb = value(b, k.field.kind, k.field.key);
      if (va === vb) continue;
      if (va === null) return 1;
      if (vb === null) return -1;
      const c = va < vb ? -1 : 1;
      return k.desc ? -c : c;
    }
    return a.id < b.id ? -1 : 1;
  };
  return [...runs].sort(cmp).map((r) => r.id);
}

describe('run search contract', () => {
  const backends: (Backend & { close(): Promise<void> })[] = [];
  const services = new Map<BackendName, TrackingService>();

  beforeAll(async () => {
    if (skip) console.warn(`run search: comparing ${names.join(' and ')} only (Postgres skipped, see above)`);
    for (const name of names) {
      const backend = await openBackend(name);
      backends.push(backend);
      await loadDataset(backend, dataset);
      services.set(name, new TrackingService(backend.tx, new FakeBlobStore(), new ManualClock(0), { artifactBytes: 1024 }));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
  });

  const search = (
    name: BackendName,
    input: Omit<SearchRunsInput, 'projectIds'> & { projectIds?: SearchRunsInput['projectIds'] },
  ) => (services.get(name) as TrackingService).searchRuns(systemPrincipal, { projectIds: '*', ...input });

  /** Every page of a search, `maxResults` at a time, through the service's page tokens. */
  async function allPages(name: BackendName, input: Omit<SearchRunsInput, 'projectIds'>, maxResults: number) {
    const items: RunWithData[] = [];
    let pageToken: string | undefined;
    for (let pages = 0; pages < 200; pages++) {
      const page = await search(name, { ...input, maxResults, ...(pageToken ? { pageToken } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(maxResults);
      items.push(...page.items);
      if (!page.nextPageToken) return items.map((r) => r.id);
      // A token is only handed out when there is more to read.
      expect(page.items).toHaveLength(maxResults);
      pageToken = page.nextPageToken;
    }
    throw new Error('paging did not end');
  }

  it('loads the same data into every backend', async () => {
    const sample = dataset.slice(0, 20);
    for (const name of names) {
      for (const r of sample) {
        const got = await (services.get(name) as TrackingService).getRun(systemPrincipal, r.id);
        expect(Object.fromEntries(got.metrics.map((x) => [x.key, x.value]))).toEqual(r.metrics);
        expect(Object.fromEntries(got.params.map((x) => [x.key, x.value]))).toEqual(r.params);
        expect(Object.fromEntries(got.tags.map((x) => [x.key, x.value]))).toEqual(r.tags);
      }
    }
  });

  /** Full results equal the oracle on every backend, and pages of 7 through the tokens add up to them. */
  async function checkSearch(filter: string, keep: (r: SeedRun) => boolean, orderBy: string[] | undefined, paged = true) {
    const want = expectedOrder(dataset.filter(keep), orderBy);
    const input = { filter, ...(orderBy ? { orderBy } : {}) };
    for (const name of names) {
      const full = await search(name, { ...input, maxResults: 1000 });
      expect(full.nextPageToken, `${name} ${orderBy}`).toBeNull();
      expect(
        full.items.map((r) => r.id),
        `${name} order by ${orderBy}`,
      ).toEqual(want);
      if (paged) expect(await allPages(name, input, 7), `${name} paged, order by ${orderBy}`).toEqual(want);
    }
  }

  // Every filter under the default order, and paged under one other; the orderings rotate so each
  // is used several times (the whole cross product, paged, takes minutes on Postgres). Paging under
  // the default order is covered by the ordering sweep below.
  const filterRuns = filterCases.map((c, i) => ({ ...c, other: orderings[1 + (i % (orderings.length - 1))] }));
  it.each(filterRuns)(
    '$filter: same runs in the same order everywhere, pages of 7 add up',
    async ({ filter, expect: keep, other }) => {
      await checkSearch(filter, keep, undefined, false);
      await checkSearch(filter, keep, other);
    },
  );

  it.each(orderings.map((orderBy) => ({ orderBy: orderBy?.join(', ') ?? 'default', keys: orderBy })))(
    'order by $orderBy: same order everywhere, pages of 7 add up',
    async ({ keys }) => {
      await checkSearch("tags.team != 'a'", (r) => r.tags.team !== undefined && r.tags.team !== 'a', keys);
    },
  );

  it('restricts to projects and experiments before filtering and paging', async () => {
    const cases: { input: Omit<SearchRunsInput, 'maxResults'>; keep: (r: SeedRun) => boolean }[] = [
      { input: { projectIds: ['prj_s2'] }, keep: (r) => r.projectId === 'prj_s2' },
      { input: { projectIds: [] }, keep: () => false },
      {
        input: { projectIds: '*', experimentIds: ['exp_a', 'exp_c'], filter: "tags.team = 'a'", orderBy: ['metrics.loss'] },
        keep: (r) => r.experimentId !== 'exp_b' && r.tags.team === 'a',
      },
      { input: { projectIds: ['prj_s1'], experimentIds: ['exp_c'] }, keep: () => false },
    ];
    for (const { input, keep } of cases) {
      const want = expectedOrder(dataset.filter(keep), input.orderBy);
      for (const name of names) {
        expect((await search(name, { ...input, maxResults: 1000 })).items.map((r) => r.id)).toEqual(want);
        expect(await allPages(name, input, 7)).toEqual(want);
      }
    }
  });

  it('returns each run with its latest metrics, params and tags', async () => {
    for (const name of names) {
      const { items } = await search(name, { filter: "tags.team = 'b'", maxResults: 1000 });
      for (const got of items) {
        const r = byId.get(got.id) as SeedRun;
        expect(Object.fromEntries(got.metrics.map((x) => [x.key, x.value]))).toEqual(r.metrics);
        expect(got.params.map((p) => p.key)).toEqual(Object.keys(r.params).sort());
      }
    }
  });

  it('rejects a page token from another search', async () => {
    for (const name of names) {
      const first = await search(name, { filter: "status = 'RUNNING'", maxResults: 2 });
      expect(first.nextPageToken).not.toBeNull();
      await expect(
        search(name, { filter: "status = 'FAILED'", maxResults: 2, pageToken: first.nextPageToken as string }),
      ).rejects.toMatchObject({ code: 'INVALID_PAGE_TOKEN' });
    }
  });
});
