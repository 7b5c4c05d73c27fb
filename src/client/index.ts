export {
  type ContractChoice,
  type DataSource,
  DatasetsClient,
  type DatasetVersionInfo,
  type RegisterDatasetOptions,
  type RegisteredDataset,
} from './datasets-client.ts';
export { type DeploymentRef, DeploymentsApi, type DeploymentView, parseModelRef } from './deployments-client.ts';
export { FeaturesApi, type MaterializeJobView, type OnlineFeaturesView } from './features-client.ts';
export { HttpClient, KeelApiError, parseRetryAfter } from './http.ts';
export {
  KeelClient,
  type KeelClientOptions,
  type RegisteredVersion,
  type RegisterModelOptions,
  type StartRunOptions,
} from './keel-client.ts';
export {
  type PipelineDefinitionView,
  type PipelineParamValue,
  type PipelineRunView,
  type PipelineStepView,
  PipelinesApi,
} from './pipelines-client.ts';
export type { PredictionView } from './predict-client.ts';
export { type GateReportView, type PolicyInfo, PromotionApi } from './promotion-client.ts';
export { type ParamValue, RunHandle } from './run-handle.ts';
