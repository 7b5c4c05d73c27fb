import type * as ort from 'onnxruntime-node';
import { AppError, type CancelSignal } from '../../core/index.ts';
import type { TensorSpec } from '../../registry/index.ts';
import type { SubmitOptions } from '../batching/index.ts';
import { oipDatatypeOf } from '../runtime/datatypes.ts';
import type { ServedVersion } from './model-resolver.ts';
import { batchable } from './oip-batching.ts';
import { decodeTensor, type RequestTensor, specMismatch } from './tensor-codec.ts';

export interface InferenceRequest {
  id?: string | undefined;
  parameters?: Record<string, unknown> | undefined;
  inputs: RequestTensor[];
  outputs?: { name: string; parameters?: Record<string, unknown> | undefined }[] | undefined;
}

/**
 * An infer request read against a model version's signature: its tensors decoded, the outputs
 * it asked for, its rows and its batching parameters. HTTP-free and stateless but for the
 * per-version index.
 */

/** Per-version lookups, built once per resolved version rather than per request. */
export interface VersionIndex {
  inputs: Map<string, TensorSpec>;
  outputs: Map<string, TensorSpec>;
  /** Outputs returned when a request names none: every output OIP JSON can carry. */
  defaultOutputs: string[];
  /** Input names in signature order (the batcher's row layout). */
  inputOrder: string[];
  /** Whether requests can share model runs (see `batchable`). */
  batchable: boolean;
}

const indexes = new WeakMap<ServedVersion, VersionIndex>();

export function indexOf(version: ServedVersion): VersionIndex {
  let index = indexes.get(version);
  if (!index) {
    const outputs = version.signature.outputs;
    const carried = outputs.filter((s) => oipDatatypeOf(s.dtype));
    index = {
      inputs: new Map(version.signature.inputs.map((s) => [s.name, s])),
      outputs: new Map(outputs.map((s) => [s.name, s])),
      defaultOutputs: carried.map((s) => s.name),
      inputOrder: version.signature.inputs.map((s) => s.name),
      batchable: batchable(version.signature.inputs, carried),
    };
    indexes.set(version, index);
  }
  return index;
}

export function decodeInputs(version: ServedVersion, inputs: RequestTensor[]): Record<string, ort.Tensor> {
  const specs = indexOf(version).inputs;
  const feeds: Record<string, ort.Tensor> = {};
  const bound = new Map<string, number>();
  for (const input of inputs) {
    const spec = specs.get(input.name);
    if (!spec) {
      const expected = [...specs.keys()].join(', ');
      throw new AppError('VALIDATION_FAILED', `unknown input '${input.name.slice(0, 100)}'; the model takes: ${expected}`);
    }
    if (Object.hasOwn(feeds, input.name)) throw new AppError('VALIDATION_FAILED', `input '${input.name}' is given twice`);
    if (!oipDatatypeOf(spec.dtype)) {
      throw new AppError('NOT_IMPLEMENTED', `input '${spec.name}' has type ${spec.dtype}, which OIP JSON cannot carry`);
    }
    const tensor = decodeTensor(input);
    const problem = specMismatch(tensor, spec, bound);
    if (problem) throw new AppError('VALIDATION_FAILED', problem);
    feeds[input.name] = tensor;
  }
  if (inputs.length !== specs.size) {
    const missing = [...specs.keys()].filter((n) => !Object.hasOwn(feeds, n));
    throw new AppError('VALIDATION_FAILED', `missing input(s): ${missing.join(', ')}`);
  }
  return feeds;
}

const wantsBinary = (p: Record<string, unknown> | undefined, key: string): boolean => p?.[key] === true;

/** The outputs to fetch: the requested ones in request order, else (none named) every output JSON can carry. */
export function selectOutputs(version: ServedVersion, req: InferenceRequest): string[] {
  if (wantsBinary(req.parameters, 'binary_data_output')) {
    throw new AppError('NOT_IMPLEMENTED', 'the binary tensor data extension is not supported; omit binary_data_output');
  }
  const { outputs: specs, defaultOutputs } = indexOf(version);
  // An empty list asks for nothing in particular, as an absent one does (Triton answers both alike);
  // ONNX Runtime cannot run with no fetches at all.
  if (!req.outputs || req.outputs.length === 0) {
    if (defaultOutputs.length === 0) {
      throw new AppError('NOT_IMPLEMENTED', 'none of the model’s outputs is a tensor OIP JSON can carry');
    }
    return defaultOutputs;
  }
  const names: string[] = [];
  for (const out of req.outputs) {
    const spec = specs.get(out.name);
    if (!spec) {
      throw new AppError(
        'VALIDATION_FAILED',
        `unknown output '${out.name.slice(0, 100)}'; the model produces: ${[...specs.keys()].join(', ')}`,
      );
    }
    if (names.includes(out.name)) throw new AppError('VALIDATION_FAILED', `output '${out.name}' is requested twice`);
    if (wantsBinary(out.parameters, 'binary_data')) {
      throw new AppError(
        'NOT_IMPLEMENTED',
        `the binary tensor data extension is not supported; omit binary_data on '${out.name}'`,
      );
    }
    if (!oipDatatypeOf(spec.dtype)) {
      throw new AppError('NOT_IMPLEMENTED', `output '${spec.name}' has type ${spec.dtype}, which OIP JSON cannot carry`);
    }
    names.push(out.name);
  }
  return names;
}

/** Rows the request brings when its model can be batched and every input agrees on them; else 0 (run alone). */
export function batchRows(index: VersionIndex, feeds: Record<string, ort.Tensor>): number {
  if (!index.batchable) return 0;
  let rows = -1;
  for (const name of index.inputOrder) {
    const n = (feeds[name] as ort.Tensor).dims[0] ?? 0;
    if (rows !== -1 && n !== rows) return 0;
    rows = n;
  }
  return Math.max(rows, 0);
}

/**
 * Request parameters the batcher honours, as the predict API names them: `timeout` (ms, the
 * request's deadline, queue and run included) and `priority` (higher runs first).
 */
export function submitOptions(parameters: Record<string, unknown> | undefined, signal: CancelSignal | undefined): SubmitOptions {
  const out: SubmitOptions = signal ? { signal } : {};
  const timeout = parameters?.timeout;
  if (timeout !== undefined) {
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 600_000)
      throw new AppError('VALIDATION_FAILED', 'parameters.timeout must be an integer number of milliseconds from 1 to 600000');
    out.timeoutMs = timeout;
  }
  const priority = parameters?.priority;
  if (priority !== undefined) {
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < -100 || priority > 100)
      throw new AppError('VALIDATION_FAILED', 'parameters.priority must be an integer from -100 to 100');
    out.priority = priority;
  }
  return out;
}
