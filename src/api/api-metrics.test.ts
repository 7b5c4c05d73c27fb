import { describe, expect, it } from 'vitest';
import { createApiMetrics } from './api-metrics.ts';

describe('createApiMetrics', () => {
  it('counts answered requests per route, method and status in keel_http_request_duration_seconds', async () => {
    const metrics = createApiMetrics();
    metrics.observeHttp('/v2/models/:name/infer', 'POST', 200, 0.002);
    metrics.observeHttp('/v2/models/:name/infer', 'POST', 200, 0.004);
    metrics.observeHttp('/v2/models/:name/infer', 'POST', 400, 0.001);
    metrics.observeHttp('unmatched', 'GET', 404, 0.0001);
    const text = await metrics.registry.metrics();
    const line = (labels: string, part: 'count' | 'sum') =>
      text.split('\n').find((l) => l.startsWith(`keel_http_request_duration_seconds_${part}{${labels}}`));
    expect(line('method="POST",route="/v2/models/:name/infer",status="200"', 'count')).toMatch(/ 2$/);
    expect(Number(line('method="POST",route="/v2/models/:name/infer",status="200"', 'sum')?.split(' ')[1])).toBeCloseTo(0.006);
    expect(line('method="POST",route="/v2/models/:name/infer",status="400"', 'count')).toMatch(/ 1$/);
    expect(line('method="GET",route="unmatched",status="404"', 'count')).toMatch(/ 1$/);
  });
});
