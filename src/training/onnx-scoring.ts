import * as ort from 'onnxruntime-node';
import { AppError } from '../core/index.ts';
import type { Table } from './training-types.ts';

/** Inputs the scorer feeds: one column per model input, named alike. */
export async function modelInputs(onnx: Uint8Array): Promise<{ name: string; type: 'string' | 'float32' }[]> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    return session.inputNames.map((name, i) => {
      const meta = session.inputMetadata[i] as { isTensor: boolean; type?: string } | undefined;
      return { name, type: meta?.type === 'string' ? 'string' : 'float32' };
    });
  } finally {
    await session.release();
  }
}

/**
 * Scores a table with a Keel-convention ONNX model (one input per feature) in ONNX Runtime,
 * the same engine serving uses, so evaluation measures the file that gets registered.
 * Returns `probability` (binary) or `prediction` (regression), whichever the model has.
 */
export async function scoreOnnx(onnx: Uint8Array, table: Table, batchSize = 65_536): Promise<Float64Array> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    const output = ['probability', 'prediction'].find((n) => session.outputNames.includes(n));
    if (!output)
      throw new AppError(
        'VALIDATION_FAILED',
        `model has neither a 'probability' nor a 'prediction' output (${session.outputNames.join(', ')})`,
      );
    const scores = new Float64Array(table.rows);
    for (let start = 0; start < table.rows; start += batchSize) {
      const n = Math.min(batchSize, table.rows - start);
      const feeds: Record<string, ort.Tensor> = {};
      session.inputNames.forEach((name, i) => {
        const column = table.columns[name];
        if (!column) throw new AppError('VALIDATION_FAILED', `the data has no column '${name}' that the model takes`);
        const meta = session.inputMetadata[i] as { type?: string } | undefined;
        if (meta?.type === 'string') {
          const values = Array.isArray(column)
            ? column.slice(start, start + n).map((v) => v ?? '')
            : Array.from(column.subarray(start, start + n), String);
          feeds[name] = new ort.Tensor('string', values, [n, 1]);
        } else {
          const values = Array.isArray(column)
            ? Float32Array.from(column.slice(start, start + n), (v) => (v === null ? Number.NaN : Number(v)))
            : Float32Array.from(column.subarray(start, start + n));
          feeds[name] = new ort.Tensor('float32', values, [n, 1]);
        }
      });
      const result = await session.run(feeds, [output]);
      const data = result[output]?.data as Float32Array;
      for (let j = 0; j < n; j++) scores[start + j] = data[j] as number;
    }
    return scores;
  } finally {
    await session.release();
  }
}
