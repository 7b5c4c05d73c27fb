export { type Batcher, type BatcherOptions, createBatcher } from './batching/index.ts';
export { createServing, type Serving, type ServingDeps } from './create-serving.ts';
export {
  InferenceLog,
  type InferenceLogOptions,
  type InferenceLogStats,
  type InferenceRecord,
  type LogQueryResult,
} from './inference-log/index.ts';
export { defaultAlias, ModelResolver, type ServedModel, type ServedVersion } from './oip/model-resolver.ts';
export {
  type InferenceRequest,
  type InferenceResponse,
  type MetadataTensor,
  type ModelMetadata,
  type ModelReadiness,
  OipService,
  type OipTarget,
  type RepositoryEntry,
  type RepositoryState,
} from './oip/oip-service.ts';
export {
  decodeTensor,
  encodeTensor,
  type RequestTensor,
  type ResponseTensor,
  specMismatch,
  type TensorValue,
} from './oip/tensor-codec.ts';
export { createPredictPath, type PredictPath, type PredictPathDeps } from './predict/create-predict-path.ts';
export { FeatureFetcher, type FetchedFeatures, type ServedStatus } from './predict/feature-fetcher.ts';
export { type ReplayResult, replayPrediction } from './predict/inference-replay.ts';
export { type PredictRequest, type PredictResponse, PredictService } from './predict/predict-service.ts';
export { type Route, RouteTable } from './predict/route-table.ts';
export {
  describeDatatype,
  isOipDatatype,
  type OipDatatype,
  oipDatatypeOf,
  oipDatatypes,
  ortTypeOf,
} from './runtime/datatypes.ts';
export { fromFloat16Bits, toFloat16Bits } from './runtime/float16.ts';
export {
  ModelCache,
  type ModelCacheOptions,
  type ModelLease,
  type ModelRef,
  type ModelState,
  type ModelStatus,
} from './runtime/model-cache.ts';
export { type ModelSession, type OrtSessionOptions, ortSessionFactory, type SessionFactory } from './runtime/ort-session.ts';
export { warmupFeeds } from './runtime/warmup.ts';
export { type ScoredRecord, StreamScorer, type StreamScorerOptions, type StreamScorerStats } from './streaming/stream-scorer.ts';
