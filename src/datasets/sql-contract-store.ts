import type { Kysely } from 'kysely';
import { type Database, type DataContractRow, uniqueInsert } from '../storage/index.ts';
import type { ContractStore } from './dataset-stores.ts';
import type { StoredContract } from './dataset-types.ts';

const toContract = (r: DataContractRow): StoredContract => ({
  projectId: r.project_id,
  name: r.name,
  version: r.version,
  yaml: r.yaml,
  policy: r.policy as StoredContract['policy'],
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export class SqlContractStore implements ContractStore {
  constructor(private readonly db: Kysely<Database>) {}

  async putContract(c: StoredContract) {
    await uniqueInsert(
      this.db
        .insertInto('data_contracts')
        .values({
          project_id: c.projectId,
          name: c.name,
          version: c.version,
          yaml: c.yaml,
          policy: c.policy,
          created_at: c.createdAt,
          created_by: c.createdBy,
        })
        .execute(),
      `contract '${c.name}' version ${c.version} already exists`,
    );
  }

  async getContract(projectId: string, name: string, version: number) {
    const r = await this.db
      .selectFrom('data_contracts')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    return r ? toContract(r) : null;
  }

  async latestContract(projectId: string, name: string) {
    const r = await this.db
      .selectFrom('data_contracts')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? toContract(r) : null;
  }

  async listContracts(projectId: string) {
    const rows = await this.db
      .selectFrom('data_contracts as c')
      .selectAll('c')
      .where('c.project_id', '=', projectId)
      .where(({ eb, selectFrom }) =>
        eb(
          'c.version',
          '=',
          selectFrom('data_contracts as l')
            .select((x) => x.fn.max('l.version').as('v'))
            .whereRef('l.project_id', '=', 'c.project_id')
            .whereRef('l.name', '=', 'c.name'),
        ),
      )
      .orderBy('c.name')
      .execute();
    return rows.map(toContract);
  }
}
