export type { GroupCommitOptions, WriterStats } from './group-commit-writer.ts';
export {
  InferenceLog,
  type InferenceLogOptions,
  type InferenceLogStats,
  inferenceLogDefaults,
  inferenceLogView,
  type LogQueryResult,
} from './inference-log.ts';
export type { InferenceRecord, JsonObject, JsonValue } from './inference-record.ts';
export { logColumns } from './inference-record.ts';
export { registerInferenceLogMetrics } from './log-metrics.ts';
export type { RecoveryReport } from './log-recovery.ts';
export { decodeSegment, LineBuffer } from './segment-codec.ts';
