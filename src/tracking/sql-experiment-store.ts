import type { Kysely } from 'kysely';
import { type Database, type ExperimentRow, uniqueInsert } from '../storage/index.ts';
import type { ExperimentStore } from './tracking-stores.ts';
import type { Experiment } from './tracking-types.ts';

const toExperiment = (r: ExperimentRow): Experiment => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export class SqlExperimentStore implements ExperimentStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(e: Experiment): Promise<void> {
    await uniqueInsert(
      this.db
        .insertInto('experiments')
        .values({
          id: e.id,
          project_id: e.projectId,
          name: e.name,
          description: e.description,
          created_at: e.createdAt,
          created_by: e.createdBy,
        })
        .execute(),
      `experiment '${e.name}' already exists`,
    );
  }

  async get(id: string): Promise<Experiment | null> {
    const row = await this.db.selectFrom('experiments').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toExperiment(row) : null;
  }

  async getByName(projectId: string, name: string): Promise<Experiment | null> {
    const row = await this.db
      .selectFrom('experiments')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toExperiment(row) : null;
  }

  async list(projectIds: string[] | '*'): Promise<Experiment[]> {
    let q = this.db.selectFrom('experiments').selectAll();
    if (projectIds !== '*') q = q.where('project_id', 'in', projectIds.length ? projectIds : ['']);
    return (await q.orderBy('name').orderBy('id').execute()).map(toExperiment);
  }
}
