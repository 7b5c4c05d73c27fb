import type { FastHistogram } from '../../core/index.ts';
import type { BatchInfo } from './batcher-types.ts';

/**
 * A batcher's `onBatch` that records each model call in the `model`'s series of a rows histogram
 * and a seconds histogram (`part` queue: how long its oldest row waited; run: the call), bound
 * once so a batch (at low load, every request) costs no label lookups.
 */
export function batchObserver(
  rows: FastHistogram<'model'>,
  seconds: FastHistogram<'model' | 'part'>,
  model: string,
): (info: BatchInfo) => void {
  const rowsOf = rows.labels({ model });
  const queued = seconds.labels({ model, part: 'queue' });
  const ran = seconds.labels({ model, part: 'run' });
  return (info) => {
    rowsOf.observe(info.items);
    queued.observe(info.waitMs / 1000);
    ran.observe(info.runMs / 1000);
  };
}
