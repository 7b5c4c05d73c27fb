import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Artifact, Metric, RunInput, RunStatus, RunWithData } from '../tracking/index.ts';
import type { HttpClient } from './http.ts';

export type ParamValue = string | number | boolean;
const batchSize = 1000;

/** A running run. Metrics are buffered and sent in batches of up to 1000; `end()` flushes. */
export class RunHandle {
  private buffer: Metric[] = [];
  private inflight: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(
    private readonly http: HttpClient,
    readonly info: RunWithData,
  ) {}

  get id(): string {
    return this.info.id;
  }

  /** Buffers one point; `step` defaults to 0 and the timestamp to now. */
  logMetric(key: string, value: number, step = 0, timestamp = Date.now()): void {
    this.buffer.push({ key, value, step, timestamp });
    if (this.buffer.length >= batchSize) this.scheduleFlush();
  }

  /** `logMetrics({ auc: 0.91, loss: 0.2 }, step)` or a list of points. */
  logMetrics(metrics: Record<string, number> | Metric[], step = 0): void {
    const now = Date.now();
    const points = Array.isArray(metrics)
      ? metrics
      : Object.entries(metrics).map(([key, value]) => ({ key, value, step, timestamp: now }));
    for (const p of points) this.logMetric(p.key, p.value, p.step, p.timestamp);
  }

  private scheduleFlush(): void {
    const batch = this.buffer.splice(0, batchSize);
    // Batches go out one after another so the server sees them in logging order.
    this.inflight = this.inflight.then(async () => {
      if (this.failure) return;
      try {
        await this.http.json('POST', `api/v1/runs/${this.id}/log`, { json: { metrics: batch } });
      } catch (e) {
        this.failure = e;
      }
    });
  }

  /** Sends every buffered metric; rejects with the first batch error, if any. */
  async flush(): Promise<void> {
    while (this.buffer.length > 0) this.scheduleFlush();
    await this.inflight;
    if (this.failure) {
      const e = this.failure;
      this.failure = null;
      throw e;
    }
  }

  async logParams(params: Record<string, ParamValue>): Promise<void> {
    const list = Object.entries(params).map(([key, value]) => ({ key, value: String(value) }));
    for (let i = 0; i < list.length; i += 100) {
      await this.http.json('POST', `api/v1/runs/${this.id}/log`, { json: { params: list.slice(i, i + 100) } });
    }
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    const list = Object.entries(tags).map(([key, value]) => ({ key, value }));
    await this.http.json('POST', `api/v1/runs/${this.id}/log`, { json: { tags: list } });
  }

  async logInputs(inputs: RunInput[]): Promise<void> {
    await this.http.json('POST', `api/v1/runs/${this.id}/inputs`, { json: { inputs } });
  }

  /** Streams a local file to the run's artifacts at `artifactPath` (default: the file name). */
  logArtifact(localPath: string, artifactPath = basename(localPath)): Promise<Artifact> {
    return uploadRunArtifact(this.http, this.id, localPath, artifactPath);
  }

  /** Flushes metrics, then marks the run FINISHED (or the given status). */
  async end(status: RunStatus = 'FINISHED'): Promise<RunWithData> {
    try {
      await this.flush();
    } catch (e) {
      await this.http.json('PATCH', `api/v1/runs/${this.id}`, { json: { status: 'FAILED' } }).catch(() => undefined);
      throw e;
    }
    return this.http.json<RunWithData>('PATCH', `api/v1/runs/${this.id}`, { json: { status } });
  }
}

/** Shared by RunHandle and KeelClient: the CLI uploads to runs it did not start in this process. */
export async function uploadRunArtifact(
  http: HttpClient,
  runId: string,
  localPath: string,
  artifactPath = basename(localPath),
): Promise<Artifact> {
  const size = (await stat(localPath)).size;
  const encoded = artifactPath.split('/').map(encodeURIComponent).join('/');
  return http.json<Artifact>('PUT', `api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encoded}`, {
    body: createReadStream(localPath),
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    timeoutMs: 60 * 60_000,
  });
}
