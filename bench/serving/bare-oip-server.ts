/**
 * The baseline for `npm run bench -- serving-oip` and `npm run bench -- serving`: the least a
 * server can do to answer an OIP infer request for one ONNX model — Fastify, one ONNX Runtime
 * session, JSON in and out, no auth, no validation beyond what the runtime does. It takes any
 * number of inputs of the common OIP datatypes (FP32, FP64, INT32, INT64, BOOL, BYTES), so it
 * serves the linear model of serving-oip and the flights GBDT (one input per feature) alike.
 * Run as its own process:
 *   node --import tsx bench/serving/bare-oip-server.ts <model.onnx> <port>
 */
import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyRequest } from 'fastify';
import * as ort from 'onnxruntime-node';

interface Body {
  id?: string;
  inputs: { name: string; datatype?: string; shape: number[]; data: unknown[] }[];
}

/** OIP datatype → ONNX Runtime tensor; JSON has no NaN, so float inputs take "NaN" (Number() reads it). */
function tensorOf(datatype: string | undefined, data: unknown[], shape: number[]): ort.Tensor {
  switch (datatype ?? 'FP32') {
    case 'FP64':
      return new ort.Tensor('float64', Float64Array.from(data, Number), shape);
    case 'INT32':
      return new ort.Tensor('int32', Int32Array.from(data, Number), shape);
    case 'INT64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(data, (v) => BigInt(v as number)),
        shape,
      );
    case 'BOOL':
      return new ort.Tensor(
        'bool',
        Uint8Array.from(data, (v) => (v ? 1 : 0)),
        shape,
      );
    case 'BYTES':
      return new ort.Tensor('string', data.map(String), shape);
    default:
      return new ort.Tensor('float32', Float32Array.from(data, Number), shape);
  }
}

const oipType: Record<string, string> = {
  float32: 'FP32',
  float64: 'FP64',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOL',
  string: 'BYTES',
};

const [modelPath, port] = process.argv.slice(2);
if (!modelPath || !port) throw new Error('usage: bare-oip-server.ts <model.onnx> <port>');
const session = await ort.InferenceSession.create(await readFile(modelPath), {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const app = Fastify({ logger: false });
const infer = async (req: FastifyRequest) => {
  const body = req.body as Body;
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of body.inputs) feeds[input.name] = tensorOf(input.datatype, input.data, input.shape);
  const out = await session.run(feeds);
  return {
    model_name: (req.params as { name: string }).name,
    id: body.id,
    outputs: Object.entries(out).map(([name, t]) => ({
      name,
      datatype: oipType[t.type] ?? t.type.toUpperCase(),
      shape: t.dims,
      data: Array.from(t.data as ArrayLike<number | bigint | string>, (v) => (typeof v === 'bigint' ? Number(v) : v)),
    })),
  };
};
app.post('/v2/models/:name/infer', infer);
app.post('/v2/models/:name/versions/:version/infer', infer);
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('ready\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
