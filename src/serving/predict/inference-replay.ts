import { isDeepStrictEqual } from 'node:util';
import { authorize, type Principal, systemPrincipal } from '../../auth/index.ts';
import { AppError } from '../../core/index.ts';
import type { RegistryService } from '../../registry/index.ts';
import type { InferenceLog } from '../inference-log/index.ts';
import type { ModelCache } from '../runtime/model-cache.ts';
import { assembleInputs, feedsFor, rowsOf } from './model-inputs.ts';

export interface ReplayResult {
  request_id: string;
  model: { name: string; version: number; digest: string };
  /** True when the recomputed outputs equal the logged ones exactly. */
  matches: boolean;
  recorded: unknown;
  recomputed: unknown;
}

/**
 * Replays a logged prediction: the same model file (by digest) on the model inputs rebuilt from
 * the logged record and feature values (as the predict path assembled them; feature reads and
 * transforms are not redone).
 */
export async function replayPrediction(
  deps: { log: InferenceLog | null; registry: RegistryService; models: ModelCache },
  actor: Principal,
  requestId: string,
): Promise<ReplayResult> {
  authorize(actor, 'registry:read');
  if (!deps.log) throw new AppError('UNAVAILABLE', 'the inference log is not enabled on this server');
  const record = await deps.log.findRecord(requestId);
  if (!record) throw new AppError('NOT_FOUND', `no logged prediction '${requestId.slice(0, 80)}'`);
  const projectId = String(record.extra.project ?? '');
  authorize(actor, 'registry:read', projectId);
  const v = await deps.registry.getVersion(systemPrincipal, projectId, record.model.name, record.model.version);
  if (v.artifactDigest !== record.model.digest) {
    throw new AppError('INVALID_STATE', `model ${record.model.name} v${record.model.version} no longer has the logged digest`);
  }
  const { rows, problems } = assembleInputs(v.manifest.signature.inputs, [record.inputs], [record.features.values]);
  if (problems.length > 0)
    throw new AppError(
      'INVALID_STATE',
      `prediction '${requestId}' cannot be rebuilt: ${problems[0]?.field} ${problems[0]?.message}`,
    );
  const ref = { digest: v.artifactDigest, size: v.artifactSize, signature: v.manifest.signature };
  const [recomputed] = rowsOf(await deps.models.run(ref, feedsFor(v.manifest.signature.inputs, rows)), 1);
  // JSON round trip: the log holds JSON, so compare like with like (float32 values survive exactly).
  const normalized = JSON.parse(JSON.stringify(recomputed ?? {}));
  return {
    request_id: record.requestId,
    model: record.model,
    matches: isDeepStrictEqual(normalized, record.outputs),
    recorded: record.outputs,
    recomputed: normalized,
  };
}
