/** Test support: a table as ONNX Runtime feeds, the way serving sends rows (float32, '' for missing strings). */
import * as ort from 'onnxruntime-node';
import type { FeatureSpec, Table } from '../training-types.ts';

export function ortFeeds(table: Table, features: FeatureSpec[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of features) {
    const column = table.columns[f.name];
    feeds[f.name] =
      column instanceof Float64Array
        ? new ort.Tensor('float32', Float32Array.from(column), [table.rows, 1])
        : new ort.Tensor(
            'string',
            (column ?? []).map((v) => v ?? ''),
            [table.rows, 1],
          );
  }
  return feeds;
}

export async function runOnnx(
  bytes: Uint8Array,
  table: Table,
  features: FeatureSpec[],
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(ortFeeds(table, features));
  } finally {
    await session.release();
  }
}
