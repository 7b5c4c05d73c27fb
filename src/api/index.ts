export { type ApiMetrics, createApiMetrics } from './api-metrics.ts';
export type { AppContext } from './app-context.ts';
export { connectionSweeper } from './connection-sweeper.ts';
export { apiVersion, createApp } from './create-app.ts';
export { type ErrorBody, toErrorResponse } from './error-handler.ts';
