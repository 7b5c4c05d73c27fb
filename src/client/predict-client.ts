import type { HttpClient } from './http.ts';

export interface PredictionView {
  request_id: string;
  model: { name: string; version: number };
  predictions: unknown[];
  probabilities?: unknown[];
  feature_status: Record<string, string>[];
  degraded: boolean;
}

/** The data plane's predict API, as `keel.predict(...)`. */
export function predictWith(http: HttpClient, project: string) {
  return (
    deployment: string,
    records: Record<string, unknown> | Record<string, unknown>[],
    parameters: { timeout?: number; priority?: number } = {},
  ): Promise<PredictionView> =>
    http.json('POST', `v1/deployments/${encodeURIComponent(deployment)}/predict`, {
      query: { project },
      json: {
        ...(Array.isArray(records) ? { records } : { record: records }),
        ...(Object.keys(parameters).length ? { parameters } : {}),
      },
    });
}
