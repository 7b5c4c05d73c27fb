export {
  type ContractChoice,
  type DataSource,
  DatasetsClient,
  type DatasetVersionInfo,
  type RegisterDatasetOptions,
  type RegisteredDataset,
} from './datasets-client.ts';
export { FeaturesApi, type MaterializeJobView, type OnlineFeaturesView } from './features-client.ts';
export { HttpClient, KeelApiError } from './http.ts';
export {
  KeelClient,
  type KeelClientOptions,
  type RegisteredVersion,
  type RegisterModelOptions,
  type StartRunOptions,
} from './keel-client.ts';
export { type ParamValue, RunHandle } from './run-handle.ts';
