import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { KeelClient, PipelineRunView } from '../../src/client/index.ts';
import { createAnalyticsEngine } from '../../src/storage/index.ts';
import { writeFlightsSlice } from './flights.ts';

export const flightsExample = resolve(import.meta.dirname, '../../examples/flights');

/** Three weeks of real flights in the server's import folder: the scale tests run pipelines at. */
export async function writeThreeWeeks(dataDir: string): Promise<string> {
  const slice = join(dataDir, 'imports', 'flights-jan.parquet');
  await mkdir(dirname(slice), { recursive: true });
  const engine = await createAnalyticsEngine({ threads: 2 });
  try {
    await writeFlightsSlice(engine, slice, '2001-01-01', '2001-01-22');
  } finally {
    await engine.close();
  }
  return slice;
}

/** The pipeline params that fit three weeks: train to the 15th, validate to the 18th, test to the 22nd. */
export const threeWeekParams = { valid_from: '2001-01-15', test_from: '2001-01-18', test_until: '2001-01-22' };

/**
 * Sets up a project for the flights reference pipeline as docs/pipelines.md does: feature
 * definitions over `source`, the contract, and `source` registered as dataset `flights`.
 */
export async function setUpFlightsPipeline(
  client: KeelClient,
  source: string,
  pipelineFile = join(flightsExample, 'pipeline.yaml'),
): Promise<{ datasetDigest: string }> {
  const features = parse(await readFile(join(flightsExample, 'features.yaml'), 'utf8'));
  features.sources[0].path = source;
  features.transforms[0].module = join(flightsExample, 'transforms.ts');
  await client.features.apply(features);
  await client.data.applyContract(await readFile(join(flightsExample, 'contract.yaml'), 'utf8'));
  const version = await client.data.register({ name: 'flights', files: [source], contract: 'flights' });
  const pipeline = parse(await readFile(pipelineFile, 'utf8'));
  await client.pipelines.apply(pipeline, dirname(pipelineFile));
  return { datasetDigest: version.digest };
}

export function stepMetrics(run: PipelineRunView, step: string): Record<string, number> {
  const s = run.steps.find((x) => x.step === step);
  return (s?.outputs?.values.metrics ?? {}) as Record<string, number>;
}
