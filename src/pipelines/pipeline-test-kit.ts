import { join } from 'node:path';
import { createLogger, ManualClock } from '../core/index.ts';
import { FsBlobStore } from '../storage/index.ts';
import { memoryTransactor } from '../stores.ts';
import { TrackingService } from '../tracking/index.ts';
import { PipelineRunner } from './pipeline-runner.ts';
import { PipelineService } from './pipeline-service.ts';
import type { StepKind } from './step-kind.ts';
import { StepTracking } from './step-tracking.ts';

/** Test support: a pipeline service over in-memory stores and a blob folder in `dir`, project `prj_1`. */
export async function setUpPipelines(dir: string, kinds: StepKind[], maxConcurrentSteps = 2) {
  const clock = new ManualClock(1_000);
  const tx = memoryTransactor();
  await tx.stores.projects.create({ id: 'prj_1', name: 'default', description: '', createdAt: 0, createdBy: 'system' });
  const blobs = await FsBlobStore.create(join(dir, 'blobs'));
  const tracking = new TrackingService(tx, blobs, clock, { artifactBytes: 1e9 });
  const store = () => tx.stores.pipelines;
  const kindMap = new Map(kinds.map((k) => [k.kind, k]));
  const logger = createLogger('silent');
  const runner = new PipelineRunner({
    store,
    blobs,
    tracking: new StepTracking(tracking, store, clock),
    kinds: kindMap,
    clock,
    logger,
    workRoot: join(dir, 'work'),
    maxConcurrentSteps,
  });
  const service = new PipelineService(tx, runner, kindMap, clock, logger);
  return { tx, tracking, service, store, logger };
}
