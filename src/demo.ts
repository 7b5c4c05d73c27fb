import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { systemPrincipal } from './auth/index.ts';
import { AppError } from './core/index.ts';
import { loadDefinitions } from './features/index.ts';
import type { Keel } from './main.ts';

export const demoProject = 'flights-demo';
const example = resolve('examples/flights');
const flights = resolve('node_modules/vega-datasets/data/flights-3m.parquet');

/**
 * `keel serve --demo` (what `npm start` runs), in a project of its own, on the real
 * vega-datasets flights: the feature store applied and materialized in the background, then the
 * flights dataset registered against its contract and the reference pipeline run (point-in-time
 * features → GBDT → evaluation → registered model). A restart reuses everything already done:
 * materialization resumes from its watermarks and every pipeline step hits the cache.
 */
export async function startFlightsDemo(keel: Keel): Promise<string[]> {
  if (!existsSync(resolve(example, 'features.yaml')) || !existsSync(flights)) {
    return ['  demo: skipped (run from a Keel checkout with `npm install` done to get the flights data)'];
  }
  const { auth, features, materialization, datasets, pipelines, logger } = keel.ctx;
  const project = await auth.resolveProject(demoProject).catch(async (e: unknown) => {
    if (e instanceof AppError && e.code === 'NOT_FOUND')
      return auth.createProject(systemPrincipal, { name: demoProject, description: 'Flights delay demo' });
    throw e;
  });
  await features.apply(systemPrincipal, project.id, await loadDefinitions(resolve(example, 'features.yaml')));
  await datasets.contracts.apply(systemPrincipal, project.id, await readFile(resolve(example, 'contract.yaml'), 'utf8'));
  await pipelines.apply(systemPrincipal, project.id, parse(await readFile(resolve(example, 'pipeline.yaml'), 'utf8')), example);
  const status = await materialization.status(systemPrincipal, project.id);
  const materialized =
    status.some((s) => s.watermark === null) &&
    (await materialization.start(systemPrincipal, project.id, { end: Date.UTC(2001, 6, 1) })).done.then((job) => {
      logger.info({ job: job.id, status: job.status }, 'flights demo: materialization finished');
    });
  // Training waits for materialization: two cores are better spent on one thing at a time.
  void Promise.resolve(materialized)
    .then(async () => {
      await datasets.register(systemPrincipal, {
        projectId: project.id,
        name: 'flights',
        source: { files: [flights] },
        contract: 'flights',
      });
      const { run, done } = await pipelines.start(systemPrincipal, project.id, 'flights', { trigger: 'demo' });
      logger.info({ run: run.id }, 'flights demo: pipeline started');
      const finished = await done;
      logger.info({ run: run.id, status: finished.status, error: finished.error }, 'flights demo: pipeline finished');
      if (finished.status === 'succeeded') {
        await keel.ctx.deployments.deploy(
          systemPrincipal,
          project.id,
          'delay',
          { model: 'flights-delay', ref: { alias: 'candidate' } },
          'demo',
        );
        logger.info('flights demo: deployment delay serves flights-delay@candidate');
      }
    })
    .catch((e: unknown) => logger.warn({ err: e }, 'flights demo: pipeline could not run'));
  return [
    `  demo: project '${demoProject}' on 3M real flights (Jan–Jun 2001): features materializing, then the flights pipeline runs`,
    `        keel features status --project ${demoProject}`,
    `        keel features online --project ${demoProject} --service delay_model --max-age 100000d \\`,
    `          --entity '{"origin":"ATL","destination":"ORD","event_timestamp":"2001-06-30T12:00:00Z"}'`,
    `        keel pipelines runs flights --project ${demoProject}      # then: keel pipelines status <run> --explain`,
    `        keel models show flights-delay --project ${demoProject}`,
    `        keel predict delay --project ${demoProject} --data '{"origin":"ATL","destination":"ORD","event_timestamp":"2001-06-30T17:00:00Z"}'`,
  ];
}
