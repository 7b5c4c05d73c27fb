import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient, type PipelineRunView } from '../../src/client/index.ts';
import {
  flightsExample,
  setUpFlightsPipeline,
  stepMetrics,
  threeWeekParams,
  writeThreeWeeks,
} from '../helpers/flights-pipeline.ts';
import { startTestKeel, type TestKeel } from '../helpers/test-keel.ts';

const byom = join(flightsExample, 'byom');

/** torch and onnx from the machine's pip setup; null (with the reason) when they cannot be installed. */
async function pythonWithTorch(): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)('sh', [join(byom, 'setup-venv.sh')], { timeout: 900_000 });
    return stdout.trim();
  } catch (e) {
    const reason = `torch cannot be installed here: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`;
    if (process.env.CI === 'true') throw new Error(reason);
    process.stderr.write(`skipping the bring-your-own-model pipeline: ${reason}\n`);
    return null;
  }
}

const python = await pythonWithTorch();

describe.skipIf(python === null)('bring your own model: a PyTorch network trained by a Python step', () => {
  let keel: TestKeel;
  let client: KeelClient;
  let run: PipelineRunView;

  beforeAll(async () => {
    keel = await startTestKeel();
    client = new KeelClient({ url: keel.url, apiKey: keel.adminKey as string });
    await setUpFlightsPipeline(client, await writeThreeWeeks(keel.dataDir), join(byom, 'pipeline.yaml'));
    run = await client.pipelines.wait(
      (await client.pipelines.run('flights-byom', { params: { ...threeWeekParams, epochs: 2 } })).id,
      {
        intervalMs: 500,
      },
    );
  }, 900_000);
  afterAll(async () => keel?.dispose());

  it('trains, evaluates and registers the exported model like a built-in one', async () => {
    expect(run.error).toBeNull();
    const train = stepMetrics(run, 'train');
    expect(train.epochs).toBe(2);
    expect(train.train_rows).toBeGreaterThan(100_000);
    // Keel's evaluate step scored the ONNX file in ONNX Runtime: the network learned something.
    expect(stepMetrics(run, 'evaluate').auc).toBeGreaterThan(0.6);
    const version = run.steps.find((s) => s.step === 'register')?.outputs?.values.version as number;
    const mv = await client.getVersion('flights-delay-torch', version);
    expect(mv.manifest.signature.inputs).toContainEqual({ name: 'hour', dtype: 'float32', shape: ['batch', 1] });
    expect(mv.manifest.signature.outputs.map((o) => o.name)).toEqual(['probability']);
    expect(mv.manifest.lineage.featureService).toMatch(/^delay_model@/);
    expect(mv.manifest.metrics.auc).toBe(stepMetrics(run, 'evaluate').auc);
  });
});
