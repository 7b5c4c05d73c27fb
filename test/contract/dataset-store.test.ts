import { beforeAll, expect, it } from 'vitest';
import type { ContractStore, Dataset, DatasetStore, DatasetVersion, StoredContract } from '../../src/datasets/index.ts';
import { describeEachBackend } from '../helpers/sql-backends.ts';

const dataset = (id: string, projectId: string, name: string): Dataset => ({
  id,
  projectId,
  name,
  description: `about ${name}`,
  createdAt: 10,
  createdBy: 'key_a',
});

const version = (projectId: string, datasetId: string, n: number, parents: string[] = []): DatasetVersion => ({
  id: `dsv_${String(n).padStart(24, '0')}`,
  projectId,
  datasetId,
  digest: `sha256:${String(n).padStart(64, '0')}`,
  sizeBytes: 1000 + n,
  rows: 10 * n,
  columns: [
    { name: 'date', type: 'TIMESTAMP' },
    { name: 'délai', type: 'BIGINT' },
  ],
  profile: {
    rows: 10 * n,
    columns: [
      {
        name: 'délai',
        type: 'BIGINT',
        kind: 'numeric',
        nullCount: 1,
        nullRate: 0.1,
        distinct: 7,
        min: -3,
        max: 12.5,
        mean: 1.25,
        std: null,
        quantiles: { p01: -3, p05: -2, p25: 0, p50: 1, p75: 2, p95: 9, p99: 12 },
        topValues: [{ value: 'ATL', count: 3 }],
      },
    ],
  },
  status: n % 2 ? 'ok' : 'flagged',
  contract: n % 2 ? null : 'flights@2',
  validation:
    n % 2
      ? null
      : {
          contract: { name: 'flights', version: 2, policy: 'warn' },
          passed: false,
          rows: 10 * n,
          asOf: 5,
          failed: 1,
          checks: [
            {
              name: 'délai.max',
              kind: 'max',
              field: 'délai',
              passed: false,
              observed: 12.5,
              threshold: 10,
              failingRows: 1,
              message: '1 rows above 10',
              samples: [{ date: '2001-01-01T00:00:00.000Z', délai: 12.5 }],
            },
          ],
        },
  lineage: { parents, step: n > 2 ? 'clean' : null, runId: null },
  source: n % 2 ? { kind: 'query', query: `select ${n}` } : { kind: 'files', files: ['/data/a.parquet'] },
  description: '',
  createdAt: 100 + (n % 3),
  createdBy: 'key_a',
});

const contract = (projectId: string, name: string, v: number): StoredContract => ({
  projectId,
  name,
  version: v,
  yaml: `name: ${name}\n# v${v}\n`,
  policy: v % 2 ? 'strict' : 'warn',
  createdAt: 50 + v,
  createdBy: 'key_b',
});

describeEachBackend('dataset store', (backend) => {
  const store = (): DatasetStore => backend().stores.datasets;
  const contracts = (): ContractStore => backend().stores.dataContracts;

  beforeAll(async () => {
    for (const id of ['prj_d1', 'prj_d2']) {
      await backend().stores.projects.create({ id, name: id, description: '', createdAt: 0, createdBy: 'system' });
    }
  });

  it('keeps dataset names unique per project and lists them by name', async () => {
    await store().createDataset(dataset('ds_b', 'prj_d1', 'flights'));
    await store().createDataset(dataset('ds_c', 'prj_d2', 'flights'));
    await store().createDataset(dataset('ds_a', 'prj_d1', 'Flights-2'));
    await expect(store().createDataset(dataset('ds_x', 'prj_d1', 'flights'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await store().getDataset('ds_x')).toBeNull();
    expect(await store().getDataset('ds_c')).toEqual(dataset('ds_c', 'prj_d2', 'flights'));
    expect(await store().getDatasetByName('prj_d1', 'flights')).toEqual(dataset('ds_b', 'prj_d1', 'flights'));
    expect(await store().getDatasetByName('prj_d1', 'FLIGHTS')).toBeNull();
    expect((await store().listDatasets(['prj_d1'])).map((d) => d.id)).toEqual(['ds_a', 'ds_b']);
    expect(await store().listDatasets([])).toEqual([]);
    expect((await store().listDatasets('*')).map((d) => d.id)).toEqual(['ds_a', 'ds_b', 'ds_c']);
  });

  it('stores versions whole, once per project, and lists summaries newest first', async () => {
    const made = [1, 2, 3, 4].map((n) => version('prj_d1', 'ds_b', n, n > 2 ? [version('prj_d1', 'ds_b', 1).id] : []));
    for (const v of made) await store().createVersion(v);
    expect(await store().getVersion('prj_d1', made[1]?.id as string)).toEqual(made[1]);
    expect(await store().getVersion('prj_d2', made[1]?.id as string)).toBeNull();
    await expect(store().createVersion(made[0] as DatasetVersion)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // The same content in another project is its own row.
    const elsewhere = { ...(made[0] as DatasetVersion), projectId: 'prj_d2', datasetId: 'ds_c' };
    await store().createVersion(elsewhere);
    expect(await store().getVersion('prj_d2', elsewhere.id)).toEqual(elsewhere);
    expect((await store().findVersion(elsewhere.id))?.projectId).toBe('prj_d1');
    expect(await store().findVersion('dsv_none')).toBeNull();
    const listed = await store().listVersions('ds_b');
    // created_at 101, 102, 100, 101 → newest first, ties by id descending.
    expect(listed.map((v) => v.id)).toEqual([made[1], made[3], made[0], made[2]].map((v) => v?.id));
    const { profile: _p, validation: _v, ...summary } = made[1] as DatasetVersion;
    expect(listed[0]).toEqual(summary);
    expect(await store().listVersions('ds_none')).toEqual([]);
  });

  it('records lineage edges both ways', async () => {
    const parent = version('prj_d1', 'ds_b', 1).id;
    expect(await store().listChildren('prj_d1', parent)).toEqual([
      version('prj_d1', 'ds_b', 3).id,
      version('prj_d1', 'ds_b', 4).id,
    ]);
    expect(await store().listChildren('prj_d2', parent)).toEqual([]);
    expect((await store().getVersion('prj_d1', version('prj_d1', 'ds_b', 3).id))?.lineage.parents).toEqual([parent]);
  });

  it('writes nothing of a version whose transaction fails', async () => {
    const v = version('prj_d1', 'ds_a', 9, [version('prj_d1', 'ds_b', 2).id]);
    await expect(
      backend().tx.transaction(async (s) => {
        await s.datasets.createVersion(v);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store().getVersion('prj_d1', v.id)).toBeNull();
    expect(await store().listChildren('prj_d1', version('prj_d1', 'ds_b', 2).id)).toEqual([]);
  });

  it('versions contracts per project and lists the latest of each', async () => {
    for (const c of [
      contract('prj_d1', 'flights', 1),
      contract('prj_d1', 'flights', 2),
      contract('prj_d1', 'airports', 1),
      contract('prj_d2', 'flights', 1),
    ]) {
      await contracts().putContract(c);
    }
    await expect(contracts().putContract(contract('prj_d1', 'flights', 2))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(await contracts().getContract('prj_d1', 'flights', 1)).toEqual(contract('prj_d1', 'flights', 1));
    expect(await contracts().getContract('prj_d1', 'flights', 3)).toBeNull();
    expect(await contracts().latestContract('prj_d1', 'flights')).toEqual(contract('prj_d1', 'flights', 2));
    expect(await contracts().latestContract('prj_d2', 'airports')).toBeNull();
    expect(await contracts().listContracts('prj_d1')).toEqual([
      contract('prj_d1', 'airports', 1),
      contract('prj_d1', 'flights', 2),
    ]);
    expect(await contracts().listContracts('prj_none')).toEqual([]);
  });
});
