import * as ort from 'onnxruntime-node';
import { AppError } from '../../core/index.ts';
import type { TensorSpec } from '../../registry/index.ts';
import { type Batcher, createBatcher, type SubmitOptions } from '../batching/index.ts';
import type { ModelCache, ModelRef } from '../runtime/model-cache.ts';
import type { OipMetrics } from './oip-metrics.ts';

/** Batching limits of /v2 infer, per model version (a deployment's defaults; see docs/serving.md). */
export interface OipBatchingOptions {
  maxBatchRows: number;
  maxQueueDelayMs: number;
  maxQueueRows: number;
}

export const oipBatchingDefaults: OipBatchingOptions = { maxBatchRows: 256, maxQueueDelayMs: 2, maxQueueRows: 4_096 };

/** A tensor's data: a typed array, or an array of strings. */
type Values = ArrayLike<unknown> & { slice(start: number, end: number): Values };
type Spec = TensorSpec & { rankUnknown?: boolean };

/** One request's inputs, in the model's input order, as decoded (each leads with `rows`). */
interface RequestFeeds {
  tensors: ort.Tensor[];
  /** Values per row of each input. */
  widths: number[];
  rows: number;
}

/** One row of a request: which request, which row. Rows are copied only when a batch mixes requests. */
interface Row {
  feeds: RequestFeeds;
  row: number;
}

/** The outputs of one batch, shared by its rows. */
interface BatchOutputs {
  tensors: ort.Tensor[];
  widths: number[];
  /** Each output's dims after the batch dimension. */
  rowDims: number[][];
  rows: number;
}

/** One row's answer: a row of a batch's outputs. */
interface RowAnswer {
  batch: BatchOutputs;
  row: number;
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
 * /v2 infer through a batcher per model version, as the predict API batches: rows of concurrent
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
    private readonly metrics?: Pick<OipMetrics, 'observerFor' | 'watchQueue'>,
  ) {}

  /**
   * Runs `feeds` (already checked against the signature, every one with `rows` rows) and returns
   * the `fetches` as tensors of `rows` rows.
   */
  run(
    model: { name: string; version: number; ref: ModelRef },
    order: readonly string[],
    fetchAll: readonly string[],
    feeds: Record<string, ort.Tensor>,
    fetches: readonly string[],
    submit: SubmitOptions,
  ): Promise<Record<string, ort.Tensor>> {
    const tensors = order.map((name) => feeds[name] as ort.Tensor);
    const rows = tensors[0]?.dims[0] ?? 0;
    const batcher = this.batcherFor(model, order, tensors, fetchAll);
    // At low load the request runs straight away on its own tensors, as the batcher would have run
    // it alone, without the queue's bookkeeping (see Batcher.runExclusive). Not an async function:
    // returning the run's promise from one would cost every request two more microtask turns.
    return (
      batcher.runExclusive(rows, submit, () => this.runChecked(model.ref, feeds, fetches, rows)) ??
      this.runQueued(batcher, tensors, rows, fetchAll, fetches, submit)
    );
  }

  /** One request's own run, with the check the queued path makes: every output leads with its rows. */
  private runChecked(ref: ModelRef, feeds: Record<string, ort.Tensor>, fetches: readonly string[], rows: number) {
    return this.runModel(ref, feeds, fetches).then((out) => {
      batchOutputs(out, fetches, rows);
      return out;
    });
  }

  private async runQueued(
    batcher: Batcher<Row, RowAnswer>,
    tensors: ort.Tensor[],
    rows: number,
    fetchAll: readonly string[],
    fetches: readonly string[],
    submit: SubmitOptions,
  ): Promise<Record<string, ort.Tensor>> {
    const request: RequestFeeds = { tensors, widths: tensors.map((t) => t.size / Math.max(rows, 1)), rows };
    const items: Row[] = new Array(rows);
    for (let r = 0; r < rows; r++) items[r] = { feeds: request, row: r };
    const answers = await batcher.submit(items, submit);
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

  /**
   * `tensors`: one request's inputs in `order`; their types are the same for every request (each
   * was checked against the signature), so they are read only when the batcher is made.
   */
  private batcherFor(
    model: { name: string; version: number; ref: ModelRef },
    order: readonly string[],
    tensors: readonly ort.Tensor[],
    fetchAll: readonly string[],
  ): Batcher<Row, RowAnswer> {
    // Per model version, not per file: its metrics carry the version's label. Two versions of one
    // file (rare: a re-registration) then batch apart but still share the loaded session.
    const key = `${model.name}\u0000${model.version}\u0000${model.ref.digest}`;
    let batcher = this.batchers.get(key);
    if (!batcher) {
      const types = tensors.map((t) => t.type);
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
        ...(this.metrics ? { onBatch: this.metrics.observerFor(label) } : {}),
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
    const whole = wholeRequest(items);
    order.forEach((name, j) => {
      if (whole) {
        // The batch is exactly one request's rows in order (any request at low load): its own tensors.
        feeds[name] = whole.tensors[j] as ort.Tensor;
        return;
      }
      const spec = specs[j] as TensorSpec;
      const data = gatherRows(
        items.map((it) => it.feeds.tensors[j]?.data as Values),
        items.map((it) => it.row),
        (items[0] as Row).feeds.widths[j] as number,
      );
      const dims = [items.length, ...(spec.shape.slice(1) as number[])];
      feeds[name] = new ort.Tensor(types[j] as ort.Tensor.Type, data as ort.Tensor.DataType, dims);
    });
    return this.runModel(ref, feeds, fetchAll);
  }

  private runModel(ref: ModelRef, feeds: Record<string, ort.Tensor>, fetches: readonly string[]) {
    return this.cache.run(ref, feeds, fetches).then(undefined, inferenceFailed);
  }
}

/** A model run's failure as the caller sees it: Keel's own errors as they are, ONNX Runtime's as INFERENCE_FAILED. */
function inferenceFailed(e: unknown): never {
  if (e instanceof AppError) throw e;
  throw new AppError('INFERENCE_FAILED', `inference failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000));
}

/** The request whose rows `items` are, all and in order; undefined when the batch mixes or splits requests. */
function wholeRequest(items: Row[]): RequestFeeds | undefined {
  const feeds = (items[0] as Row).feeds;
  if (items.length !== feeds.rows) return undefined;
  for (let i = 0; i < items.length; i++) if ((items[i] as Row).feeds !== feeds || (items[i] as Row).row !== i) return undefined;
  return feeds;
}

/**
 * Row `rows[i]` of `sources[i]` (each row `width` values) laid end to end, in the container type
 * of the first source (a typed array, or an array of strings).
 */
function gatherRows(sources: Values[], rows: number[], width: number): ArrayLike<unknown> {
  const first = sources[0] as Values;
  if (Array.isArray(first)) {
    const out: unknown[] = [];
    for (let i = 0; i < sources.length; i++) {
      const from = (rows[i] as number) * width;
      for (let k = 0; k < width; k++) out.push((sources[i] as unknown[])[from + k]);
    }
    return out;
  }
  type Typed = ArrayLike<unknown> & { set(a: ArrayLike<unknown>, offset: number): void; subarray(a: number, b: number): Typed };
  const Ctor = first.constructor as new (n: number) => Typed;
  const out = new Ctor(sources.length * width);
  for (let i = 0; i < sources.length; i++) {
    const from = (rows[i] as number) * width;
    out.set((sources[i] as unknown as Typed).subarray(from, from + width), i * width);
  }
  return out;
}

/** The outputs `names` of a run over `rows` rows, each checked to lead with those rows. */
function batchOutputs(results: Record<string, ort.Tensor>, names: readonly string[], rows: number): ort.Tensor[] {
  return names.map((name) => {
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
}

function splitRows(results: Record<string, ort.Tensor>, fetchAll: readonly string[], rows: number): RowAnswer[] {
  const tensors = batchOutputs(results, fetchAll, rows);
  const batch: BatchOutputs = {
    tensors,
    widths: tensors.map((t) => t.size / Math.max(rows, 1)),
    rowDims: tensors.map((t) => t.dims.slice(1) as number[]),
    rows,
  };
  const answers: RowAnswer[] = new Array(rows);
  for (let r = 0; r < rows; r++) answers[r] = { batch, row: r };
  return answers;
}

/** Output k of a request's rows as one tensor (rows of one request can come from different batches). */
function joinRows(answers: RowAnswer[], k: number, rows: number): ort.Tensor {
  const first = (answers[0] as RowAnswer).batch;
  // The batch held this request's rows and nothing else: its output as it came.
  if (first.rows === rows && answers.every((a, i) => a.batch === first && a.row === i)) return first.tensors[k] as ort.Tensor;
  const rowDims = first.rowDims[k] as number[];
  if (answers.some((a) => (a.batch.rowDims[k] as number[]).join() !== rowDims.join())) {
    throw new AppError('INFERENCE_FAILED', 'the model gave rows of one request outputs of different shapes in different batches');
  }
  const data = gatherRows(
    answers.map((a) => a.batch.tensors[k]?.data as Values),
    answers.map((a) => a.row),
    first.widths[k] as number,
  );
  return new ort.Tensor(first.tensors[k]?.type as ort.Tensor.Type, data as ort.Tensor.DataType, [rows, ...rowDims]);
}
