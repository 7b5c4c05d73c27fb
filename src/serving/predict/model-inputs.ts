import * as ort from 'onnxruntime-node';
import { AppError } from '../../core/index.ts';
import type { TensorSpec } from '../../registry/index.ts';

/** One row's input values, by model input name: scalars, or flat arrays for inputs wider than one. */
export type InputRow = Record<string, unknown>;

export interface FieldProblem {
  record: number;
  field: string;
  message: string;
}

const numeric = new Set([
  'float32',
  'float64',
  'float16',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
]);

/** Values per row of an input: the product of its dims after the batch dim (symbolic ones count as 1). */
export function rowWidth(spec: TensorSpec): number {
  return spec.shape.slice(1).reduce<number>((n, d) => n * (typeof d === 'number' && d > 0 ? d : 1), 1);
}

function check(spec: TensorSpec, value: unknown): string | null {
  const width = rowWidth(spec);
  const values = Array.isArray(value) ? value : [value];
  if (values.length !== width) return `must be ${width === 1 ? 'one value' : `${width} values`}, got ${values.length}`;
  for (const v of values) {
    if (spec.dtype === 'string') {
      if (v !== null && typeof v !== 'string') return `must be a string, got ${JSON.stringify(v)?.slice(0, 40)}`;
    } else if (spec.dtype === 'bool') {
      if (typeof v !== 'boolean') return `must be true or false, got ${JSON.stringify(v)?.slice(0, 40)}`;
    } else if (numeric.has(spec.dtype)) {
      // null means missing: float inputs carry it as NaN (the models impute); integers cannot.
      if (v === null && spec.dtype.startsWith('float')) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) return `must be a number, got ${JSON.stringify(v)?.slice(0, 40)}`;
      if (!spec.dtype.startsWith('float') && !Number.isInteger(v)) return `must be an integer, got ${v}`;
    } else {
      return `has type ${spec.dtype}, which the predict API does not take (use /v2 infer)`;
    }
  }
  return null;
}

/** One 400 listing every problem (the first 20 in the message, all of them in the details). */
export function invalidFields(problems: FieldProblem[]): AppError {
  const listed = problems.slice(0, 20).map((p) => `records[${p.record}].${p.field} ${p.message}`);
  return new AppError('VALIDATION_FAILED', `${problems.length} invalid field(s): ${listed.join('; ')}`, { problems });
}

/**
 * Builds each record's model inputs from its feature values and its own fields (features win
 * for names both have: they are what the model was trained on), and lists every problem.
 */
export function assembleInputs(
  inputs: TensorSpec[],
  records: Record<string, unknown>[],
  features: Record<string, unknown>[],
): { rows: InputRow[]; problems: FieldProblem[] } {
  const rows: InputRow[] = [];
  const problems: FieldProblem[] = [];
  records.forEach((record, i) => {
    const row: InputRow = {};
    const fromStore = features[i] ?? {};
    for (const spec of inputs) {
      const value = Object.hasOwn(fromStore, spec.name) ? fromStore[spec.name] : record[spec.name];
      if (value === undefined) {
        problems.push({
          record: i,
          field: spec.name,
          message: 'is missing (neither a feature of the deployment nor a field of the record)',
        });
        continue;
      }
      const problem = check(spec, value);
      if (problem) problems.push({ record: i, field: spec.name, message: problem });
      row[spec.name] = value;
    }
    rows.push(row);
  });
  return { rows, problems };
}

/**
 * One tensor per input for a batch of rows: [rows, …the input's other dims]. This and `rowsOf`
 * run once per model call over every row, so they use plain loops into preallocated arrays
 * (flatMap and TypedArray.from with a map function cost a call per value).
 */
export function feedsFor(inputs: TensorSpec[], rows: InputRow[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of inputs) {
    const width = rowWidth(spec);
    const flat = gather(rows, spec.name);
    const dims = [rows.length, ...spec.shape.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : 1))];
    if (dims.length === 1 && width === 1) dims.push(1);
    const shape = spec.shape.length === 1 ? [rows.length] : dims;
    feeds[spec.name] = tensorOf(spec.dtype, flat, shape);
  }
  return feeds;
}

/** One input's values over the rows, in row order, a row's array spread in place. */
function gather(rows: InputRow[], name: string): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < rows.length; i++) {
    const v = (rows[i] as InputRow)[name];
    if (Array.isArray(v)) for (let j = 0; j < v.length; j++) out.push(v[j]);
    else out.push(v);
  }
  return out;
}

/** A float input's values: null is NaN (a missing feature), anything else as Number() reads it. */
function fillFloats<T extends Float32Array | Float64Array>(out: T, values: unknown[]): T {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v === null ? Number.NaN : Number(v);
  }
  return out;
}

function tensorOf(dtype: string, values: unknown[], shape: number[]): ort.Tensor {
  const n = values.length;
  switch (dtype) {
    case 'string': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) out[i] = values[i] === null ? '' : String(values[i]);
      return new ort.Tensor('string', out, shape);
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
      return new ort.Tensor('bool', out, shape);
    }
    case 'float64':
      return new ort.Tensor('float64', fillFloats(new Float64Array(n), values), shape);
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i] as number);
      return new ort.Tensor('int64', out, shape);
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(values[i]);
      return new ort.Tensor('int32', out, shape);
    }
    default:
      return new ort.Tensor('float32', fillFloats(new Float32Array(n), values), shape);
  }
}

const plainValue = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);

/** The model's outputs split into one object per row: a single value per row as itself, more as an array. */
export function rowsOf(outputs: Record<string, ort.Tensor>, rows: number): Record<string, unknown>[] {
  const out = new Array<Record<string, unknown>>(rows);
  for (let i = 0; i < rows; i++) out[i] = {};
  for (const name of Object.keys(outputs)) {
    const data = (outputs[name] as ort.Tensor).data as ArrayLike<unknown>;
    const per = rows > 0 ? data.length / rows : 0;
    for (let i = 0; i < rows; i++) {
      const row = out[i] as Record<string, unknown>;
      if (per === 1) {
        row[name] = plainValue(data[i]);
        continue;
      }
      // Rows that do not divide the output evenly keep slice's truncating bounds, as before.
      const from = Math.trunc(i * per);
      const to = Math.trunc((i + 1) * per);
      const slice = new Array<unknown>(Math.max(to - from, 0));
      for (let k = from; k < to; k++) slice[k - from] = plainValue(data[k]);
      row[name] = slice;
    }
  }
  return out;
}
