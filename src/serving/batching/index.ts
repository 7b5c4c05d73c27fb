export { batchObserver } from './batch-observer.ts';
export { type BatchTimers, systemBatchTimers } from './batch-timers.ts';
export type { Batcher, BatcherOptions, BatcherStats, BatchInfo, BatchTiming, SubmitOptions } from './batcher-types.ts';
export { createBatcher } from './create-batcher.ts';
export { FakeBatchTimers } from './fake-batch-timers.ts';
