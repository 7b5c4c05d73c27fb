import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeelClient } from '../../src/client/index.ts';
import { buildLinearModel } from '../../src/registry/index.ts';
import { startTestKeel, type TestKeel } from './test-keel.ts';

/**
 * A deployment `lin` of a linear model with no feature service (inputs come from the record:
 * `x`, two numbers), for serving tests that are about the gateway rather than features.
 */
export async function deployLinearModel(admin: KeelClient): Promise<{ predictorKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-lin-'));
  const file = join(dir, 'lin.onnx');
  await writeFile(
    file,
    buildLinearModel({ features: 2, weights: [0.5, -0.25], bias: 0.1, sigmoid: true, outputName: 'probability' }),
  );
  const v = await admin.registerModel({ name: 'lin', file });
  await admin.setAlias({ model: 'lin', alias: 'champion', version: v.version, reason: 'serving test' });
  await admin.deployments.deploy('lin', { model: 'lin', ref: { alias: 'champion' } });
  return { predictorKey: (await admin.createKey({ role: 'predictor', name: 'gateway' })).key };
}

/** A test Keel with `lin` deployed: the server, an admin client and a predictor key. */
export async function startLinearKeel(
  opts: Parameters<typeof startTestKeel>[0] = {},
): Promise<{ keel: TestKeel; admin: KeelClient; predictorKey: string }> {
  const keel = await startTestKeel(opts);
  const admin = new KeelClient({ url: keel.url, apiKey: keel.adminKey as string });
  const { predictorKey } = await deployLinearModel(admin);
  return { keel, admin, predictorKey };
}

/** What `lin` should answer for x. */
export const linearProbability = (x: [number, number]) => 1 / (1 + Math.exp(-(0.5 * x[0] - 0.25 * x[1] + 0.1)));

/** A raw predict call, for tests that look at statuses and headers (the SDK throws on errors). */
export function postPredict(
  url: string,
  key: string,
  deployment: string,
  body: unknown,
  contentType = 'application/json',
): Promise<Response> {
  return fetch(`${url}/v1/deployments/${deployment}/predict`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
