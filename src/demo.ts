import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { systemPrincipal } from './auth/index.ts';
import { AppError } from './core/index.ts';
import { loadDefinitions } from './features/index.ts';
import type { Keel } from './main.ts';

export const demoProject = 'flights-demo';
const definitions = resolve('examples/flights/features.yaml');

/**
 * `keel serve --demo` (what `npm start` runs): the flights feature store on the real
 * vega-datasets data in a project of its own, applied on start and materialized in the
 * background, so a newcomer sees features served within a minute of `npm start`.
 */
export async function startFlightsDemo(keel: Keel): Promise<string[]> {
  if (!existsSync(definitions) || !existsSync(resolve('node_modules/vega-datasets/data/flights-3m.parquet'))) {
    return ['  demo: skipped (run from a Keel checkout with `npm install` done to get the flights data)'];
  }
  const { auth, features, materialization } = keel.ctx;
  const project = await auth.resolveProject(demoProject).catch(async (e: unknown) => {
    if (e instanceof AppError && e.code === 'NOT_FOUND')
      return auth.createProject(systemPrincipal, { name: demoProject, description: 'Flights delay demo' });
    throw e;
  });
  await features.apply(systemPrincipal, project.id, await loadDefinitions(definitions));
  const status = await materialization.status(systemPrincipal, project.id);
  if (status.some((s) => s.watermark === null)) {
    const { done } = await materialization.start(systemPrincipal, project.id, { end: Date.UTC(2001, 6, 1) });
    done.then((job) => keel.ctx.logger.info({ job: job.id, status: job.status }, 'flights demo: materialization finished'));
  }
  return [
    `  demo: flights features (3M real flights, Jan–Jun 2001) applied in project '${demoProject}'; materializing in the background`,
    `        keel features status --project ${demoProject}`,
    `        keel features online --project ${demoProject} --service delay_model --max-age 100000d \\`,
    `          --entity '{"origin":"ATL","destination":"ORD","event_timestamp":"2001-06-30T12:00:00Z"}'`,
  ];
}
