import * as ort from 'onnxruntime-node';
import { AppError } from '../../core/index.ts';
import type { TensorSpec } from '../../registry/index.ts';
import { type Batcher, type BatchInfo, createBatcher, type SubmitOptions } from '../batching/index.ts';
import type { ModelCache, ModelRef } from '../runtime/model-cache.ts';
import type { OipMetrics } from './oip-metrics.ts';

/** Batching limits of /v2 infer, per model file (a deployment's defaults; see docs/serving.md). */
export interface OipBatchingOptions {
  maxBatchRows: number;
  maxQueueDelayMs: number;
  maxQueueRows: number;
}

export const oipBatchingDefaults: OipBatchingOptions = { maxBatchRows: 256, maxQueueDelayMs: 2, maxQueueRows: 4_096 };

/** A tensor's data: a typed array, or an array of strings. */
type Values = ArrayLike<unknown> & { slice(start: number, end: number): Values };
type Spec = TensorSpec & { rankUnknown?: boolean };

/** One row of a request: each input's values for that row, in the model's input order. */
type Row = Values[];

/** The outputs of one batch, shared by its rows: type and per-row dims of each fetched output. */
interface BatchMeta {
  types: ort.Tensor.Type[];
  rowDims: number[][];
}

/** One row's answer: each fetched output's values for that row (views into the batch's tensors). */
interface RowAnswer {
  meta: BatchMeta;
  values: Values[];
}

const isBatchDim = (d: number | string | null | undefined) => typeof d !== 'number' || d < 0;
const isStaticDim = (d: number | string | null | undefined) => typeof d === 'number' && d >= 0;

/**
 * Whether requests of a model can share model runs: every input and every output JSON can carry
 * leads with a dynamic (batch) dimension and has fixed sizes after it — Triton's contract for a
 * model with max_batch_size > 0. Other models run one request at a time.
 */
export function batchable(inputs: readonly Spec[], outputs: readonly Spec[]): boolean {
  const known = (s: Spec) => !s.rankUnknown && s.shape.length >= 1 && isBatchDim(s.shape[0]);
  return (
    inputs.length > 0 &&
    outputs.length > 0 &&
    inputs.every((s) => known(s) && s.shape.slice(1).every(isStaticDim)) &&
    outputs.every(known)
  );
}

/**
 * /v2 infer through a batcher per model file, as the predict API batches: rows of concurrent
 * requests run in one ONNX Runtime call (counted in rows), with a bounded queue (503 +
 * Retry-After when full), per-request deadline and priority, and cancellation of work whose
 * client left. The batch always fetches every output JSON can carry; each request gets the ones
 * it asked for.
 */
export class OipBatchers {
  private readonly batchers = new Map<string, Batcher<Row, RowAnswer>>();

  constructor(
    private readonly cache: ModelCache,
    private readonly options: OipBatchingOptions = oipBatchingDefaults,
    private readonly metrics?: Pick<OipMetrics, 'observeBatch' | 'watchQueue'>,
  ) {}

  /**
   * Runs `feeds` (already checked against the signature, every one with `rows` rows) and returns
   * the `fetches` as tensors of `rows` rows.
   */
  async run(
    model: { name: string; version: number; ref: ModelRef },
    order: readonly string[],
    fetchAll: readonly string[],
    feeds: Record<string, ort.Tensor>,
    fetches: readonly string[],
    submit: SubmitOptions,
  ): Promise<Record<string, ort.Tensor>> {
    const tensors = order.map((name) => feeds[name] as ort.Tensor);
    const rows = tensors[0]?.dims[0] ?? 0;
    const items: Row[] = new Array(rows);
    const widths = tensors.map((t) => t.size / Math.max(rows, 1));
    for (let r = 0; r < rows; r++)
      items[r] = tensors.map((t, j) => (t.data as Values).slice(r * (widths[j] as number), (r + 1) * (widths[j] as number)));
    const types = tensors.map((t) => t.type);
    const answers = await this.batcherFor(model, order, types, fetchAll).submit(items, submit);
    const out: Record<string, ort.Tensor> = {};
    for (const name of fetches) {
      const k = fetchAll.indexOf(name);
      out[name] = joinRows(answers, k, rows);
    }
    return out;
  }

  /** Drains queued work (graceful shutdown). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.batchers.values()].map((b) => b.close()));
  }

  /** `types`: the inputs' tensor types, the same for every request (each was checked against the signature). */
  private batcherFor(
    model: { name: string; version: number; ref: ModelRef },
    order: readonly string[],
    types: ort.Tensor.Type[],
    fetchAll: readonly string[],
  ) {
    const key = model.ref.digest;
    let batcher = this.batchers.get(key);
    if (!batcher) {
      const label = `${model.name}@${model.version}`;
      const specs = order.map((name) => model.ref.signature.inputs.find((s) => s.name === name) as TensorSpec);
      batcher = createBatcher<Row, RowAnswer>({
        name: label,
        maxBatchItems: this.options.maxBatchRows,
        maxDelayMs: this.options.maxQueueDelayMs,
        maxQueueItems: this.options.maxQueueRows,
        // One request's bad values (or a model that fails on them) must not fail the others in its batch.
        isolateFailures: true,
        runBatch: async (items) =>
          splitRows(await this.runJoined(model.ref, specs, types, order, fetchAll, items), fetchAll, items.length),
        ...(this.metrics ? { onBatch: (info: BatchInfo) => this.metrics?.observeBatch(label, info) } : {}),
      });
      this.batchers.set(key, batcher);
      const created = batcher;
      this.metrics?.watchQueue(label, () => created.stats().queuedItems);
    }
    return batcher;
  }

  private async runJoined(
    ref: ModelRef,
    specs: TensorSpec[],
    types: ort.Tensor.Type[],
    order: readonly string[],
    fetchAll: readonly string[],
    items: Row[],
  ) {
    const feeds: Record<string, ort.Tensor> = {};
    order.forEach((name, j) => {
      const spec = specs[j] as TensorSpec;
      const first = (items[0] as Row)[j] as Values;
      const width = first.length;
      const data = joinValues(
        items.map((row) => row[j] as Values),
        width,
      );
      const dims = [items.length, ...(spec.shape.slice(1) as number[])];
      feeds[name] = new ort.Tensor(types[j] as ort.Tensor.Type, data as ort.Tensor.DataType, dims);
    });
    try {
      return await this.cache.run(ref, feeds, fetchAll);
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('INFERENCE_FAILED', `inference failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000));
    }
  }
}

/** Rows of one input laid end to end, in the container type of the first (a typed array, or an array of strings). */
function joinValues(parts: Values[], width: number): ArrayLike<unknown> {
  const first = parts[0] as Values;
  if (Array.isArray(first)) return parts.flatMap((p) => p as unknown[]);
  const Ctor = first.constructor as new (n: number) => { set(a: ArrayLike<unknown>, offset: number): void } & ArrayLike<unknown>;
  const out = new Ctor(parts.length * width);
  for (let i = 0; i < parts.length; i++) out.set(parts[i] as Values, i * width);
  return out;
}

function splitRows(results: Record<string, ort.Tensor>, fetchAll: readonly string[], rows: number): RowAnswer[] {
  const tensors = fetchAll.map((name) => {
    const t = results[name];
    if (!t) throw new AppError('INFERENCE_FAILED', `the model returned no output '${name}'`);
    if (t.dims[0] !== rows) {
      throw new AppError(
        'INFERENCE_FAILED',
        `output '${name}' has shape [${t.dims.join(', ')}]: no batch dimension of ${rows} rows`,
      );
    }
    return t;
  });
  const meta: BatchMeta = { types: tensors.map((t) => t.type), rowDims: tensors.map((t) => t.dims.slice(1) as number[]) };
  const widths = tensors.map((t) => t.size / rows);
  const answers: RowAnswer[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    answers[r] = {
      meta,
      values: tensors.map((t, k) => (t.data as Values).slice(r * (widths[k] as number), (r + 1) * (widths[k] as number))),
    };
  }
  return answers;
}

/** Output k of a request's rows as one tensor (rows of one request can come from different batches). */
function joinRows(answers: RowAnswer[], k: number, rows: number): ort.Tensor {
  const first = answers[0] as RowAnswer;
  const rowDims = first.meta.rowDims[k] as number[];
  const width = (first.values[k] as Values).length;
  if (answers.some((a) => (a.meta.rowDims[k] as number[]).join() !== rowDims.join())) {
    throw new AppError('INFERENCE_FAILED', 'the model gave rows of one request outputs of different shapes in different batches');
  }
  const data = joinValues(
    answers.map((a) => a.values[k] as Values),
    width,
  );
  return new ort.Tensor(first.meta.types[k] as ort.Tensor.Type, data as ort.Tensor.DataType, [rows, ...rowDims]);
}
