import type * as ort from 'onnxruntime-node';
import { authorize, type Principal } from '../../auth/index.ts';
import { AppError, type CancelSignal, CountedErrors } from '../../core/index.ts';
import { describeDatatype } from '../runtime/datatypes.ts';
import type { ModelCache, ModelRef, ModelState } from '../runtime/model-cache.ts';
import type { ModelResolver, ServedModel, ServedVersion } from './model-resolver.ts';
import type { OipBatchers } from './oip-batching.ts';
import { type OipMetrics, UNRESOLVED_MODEL } from './oip-metrics.ts';
import { batchRows, decodeInputs, type InferenceRequest, indexOf, selectOutputs, submitOptions } from './oip-request.ts';
import { encodeTensor, type ResponseTensor } from './tensor-codec.ts';

/** Which model a /v2 request names: project (default: the configured serving project), name, optional version number. */
export interface OipTarget {
  project?: string | undefined;
  name: string;
  version?: string | undefined;
}

export type { InferenceRequest } from './oip-request.ts';

export interface InferenceResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: ResponseTensor[];
}

export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: 'onnxruntime_onnx';
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
}

export type RepositoryState = 'READY' | 'LOADING' | 'UNAVAILABLE';

export interface RepositoryEntry {
  name: string;
  version: string;
  state: RepositoryState;
  reason: string;
}

export interface ModelReadiness {
  name: string;
  version: string;
  ready: boolean;
  state: RepositoryState;
  reason?: string;
}

export interface OipServiceDeps {
  resolveProject(name: string): Promise<{ id: string }>;
  /** A project `resolveProject` found before, answered without a promise (the infer hot path). */
  cachedProject?(name: string): { id: string } | undefined;
  resolver: ModelResolver;
  cache: ModelCache;
  /** Model runs shared by concurrent requests; without it every request runs on its own. */
  batchers?: OipBatchers;
  /** Per-model request counts and durations (keel_oip_*); none without it. */
  metrics?: OipMetrics;
  defaultProject: string;
}

/** A model version's series, made once rather than hashed from label objects on every request. */
interface InferSeries {
  ok: { inc(): void };
  seconds: { observe(value: number): void };
  labels: { model: string; model_version: string };
}

const heldReason = 'unloaded';

/** The Open Inference Protocol v2 over the registry's models and the model cache; HTTP-free. */
export class OipService {
  /** Models unloaded through the repository API stay unloaded until loaded again (keys: projectId + name). */
  private readonly held = new Set<string>();
  /** Each resolved version's series (a re-read model brings new version objects, which bind the same series again). */
  private readonly series = new WeakMap<ServedVersion, InferSeries>();
  /** Errors `infer` threw and counted, so the route does not count them again. */
  private readonly counted = new CountedErrors();
  private closing = false;

  constructor(private readonly deps: OipServiceDeps) {}

  live(): boolean {
    return true;
  }

  ready(): boolean {
    return !this.closing;
  }

  markClosing(): void {
    this.closing = true;
  }

  async modelMetadata(actor: Principal, target: OipTarget): Promise<ModelMetadata> {
    const { model, version } = await this.resolve(actor, target, 'serving:predict');
    const tensor = (t: ServedVersion['signature']['inputs'][number]): MetadataTensor => ({
      name: t.name,
      datatype: describeDatatype(t.dtype),
      shape: t.shape.map((d) => (typeof d === 'number' ? d : -1)),
    });
    return {
      name: model.name,
      versions: model.versions.map((v) => String(v.version)),
      platform: 'onnxruntime_onnx',
      inputs: version.signature.inputs.map(tensor),
      outputs: version.signature.outputs.map(tensor),
    };
  }

  /** Whether a model version can take requests now; a model never loaded starts loading (a probe warms it up). */
  async modelReady(actor: Principal, target: OipTarget): Promise<ModelReadiness> {
    const { model, version } = await this.resolve(actor, target, 'serving:predict');
    const entry = this.entryOf(model, version);
    if (entry.state === 'UNAVAILABLE' && entry.reason === '' && !this.isHeld(model)) {
      this.deps.cache.prefetch(refOf(version));
    }
    return {
      name: model.name,
      version: entry.version,
      ready: entry.state === 'READY',
      state: entry.state,
      ...(entry.reason ? { reason: entry.reason } : {}),
    };
  }

  async infer(actor: Principal, target: OipTarget, req: InferenceRequest, signal?: CancelSignal): Promise<InferenceResponse> {
    const started = performance.now();
    let series: InferSeries | undefined;
    try {
      // Everything cached (every request but a model's first few): resolved without a promise per step.
      const { model, version } =
        this.resolveCached(actor, target, 'serving:predict') ?? (await this.resolve(actor, target, 'serving:predict'));
      series = this.seriesFor(model.name, version);
      const res = await this.inferResolved(model, version, req, signal);
      if (series) {
        series.ok.inc();
        series.seconds.observe((performance.now() - started) / 1000);
      }
      return res;
    } catch (e) {
      if (this.deps.metrics) {
        const labels = series?.labels ?? { model: UNRESOLVED_MODEL, model_version: '' };
        this.deps.metrics.requests.inc({ ...labels, code: this.counted.count(e) });
      }
      throw e;
    }
  }

  /** Whether `infer` threw (and so counted) this error. */
  hasCounted(error: unknown): boolean {
    return this.counted.has(error);
  }

  /** Counts an infer request refused before `infer` ran (an invalid body, a failed authentication), by its answer's code. */
  countRefused(code: string): void {
    this.deps.metrics?.requests.inc({ model: UNRESOLVED_MODEL, model_version: '', code });
  }

  private seriesFor(model: string, served: ServedVersion): InferSeries | undefined {
    const metrics = this.deps.metrics;
    if (!metrics) return undefined;
    let found = this.series.get(served);
    if (!found) {
      const labels = { model, model_version: String(served.version) };
      found = { ok: metrics.requests.labels({ ...labels, code: 'ok' }), seconds: metrics.seconds.labels(labels), labels };
      this.series.set(served, found);
    }
    return found;
  }

  private async inferResolved(
    model: ServedModel,
    version: ServedVersion,
    req: InferenceRequest,
    signal: CancelSignal | undefined,
  ): Promise<InferenceResponse> {
    if (this.isHeld(model)) throw heldError(model.name);
    const submit = submitOptions(req.parameters, signal);
    const feeds = decodeInputs(version, req.inputs);
    const fetches = selectOutputs(version, req);
    const index = indexOf(version);
    const rows = batchRows(index, feeds);
    const results =
      this.deps.batchers && rows > 0
        ? await this.deps.batchers.run(
            { name: model.name, version: version.version, ref: refOf(version) },
            index.inputOrder,
            index.defaultOutputs,
            feeds,
            fetches,
            submit,
          )
        : await this.runAlone(version, feeds, fetches);
    const outputs = fetches.map((name) => {
      const t = results[name];
      if (!t) throw new AppError('INFERENCE_FAILED', `the model returned no output '${name}'`);
      return encodeTensor(name, t);
    });
    return {
      model_name: model.name,
      model_version: String(version.version),
      ...(req.id !== undefined ? { id: req.id } : {}),
      outputs,
    };
  }

  private async runAlone(version: ServedVersion, feeds: Record<string, ort.Tensor>, fetches: string[]) {
    const lease = await this.deps.cache.acquire(refOf(version));
    try {
      return await lease.run(feeds, fetches);
    } catch (e) {
      throw new AppError('INFERENCE_FAILED', `inference failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000));
    } finally {
      lease.release();
    }
  }

  /** Every version of every model in the project with its state (`ready`: only READY ones). */
  async repositoryIndex(actor: Principal, project: string | undefined, readyOnly = false): Promise<RepositoryEntry[]> {
    const projectId = await this.projectId(actor, project, 'serving:predict');
    const models = await this.deps.resolver.list(projectId);
    const entries = models.flatMap((m) => m.versions.map((v) => ({ name: m.name, ...this.entryOf(m, v) })));
    return readyOnly ? entries.filter((e) => e.state === 'READY') : entries;
  }

  /** Loads the model's default version and waits for READY; also lifts an earlier unload. */
  async load(actor: Principal, target: OipTarget): Promise<{ name: string; version: string }> {
    const { model, version } = await this.resolve(actor, target, 'deployment:write');
    this.held.delete(heldKey(model));
    await this.deps.cache.load(refOf(version));
    return { name: model.name, version: String(version.version) };
  }

  /** Unloads every loaded version of a model and keeps it unloaded (503 on infer) until it is loaded again. */
  async unload(actor: Principal, target: OipTarget): Promise<{ name: string }> {
    const { model } = await this.resolve(actor, { ...target, version: undefined }, 'deployment:write');
    this.held.add(heldKey(model));
    for (const v of model.versions) this.deps.cache.unload(v.digest);
    return { name: model.name };
  }

  private entryOf(model: ServedModel, v: ServedVersion): Omit<RepositoryEntry, 'name'> {
    const status = this.deps.cache.status(v.digest);
    const version = String(v.version);
    if (this.isHeld(model)) return { version, state: 'UNAVAILABLE', reason: heldReason };
    const map: Record<ModelState, RepositoryState> = {
      READY: 'READY',
      LOADING: 'LOADING',
      FAILED: 'UNAVAILABLE',
      UNLOADED: 'UNAVAILABLE',
    };
    return { version, state: map[status.state], reason: status.state === 'FAILED' ? (status.reason ?? 'failed to load') : '' };
  }

  private isHeld(model: ServedModel): boolean {
    return this.held.size > 0 && this.held.has(heldKey(model));
  }

  private async projectId(actor: Principal, project: string | undefined, action: 'serving:predict' | 'deployment:write') {
    // Check the role before touching the project, so a key that may not predict learns nothing about which projects exist.
    authorize(actor, action);
    const { id } = await this.deps.resolveProject(project ?? this.deps.defaultProject);
    authorize(actor, action, id);
    return id;
  }

  private async resolve(actor: Principal, target: OipTarget, action: 'serving:predict' | 'deployment:write') {
    const projectId = await this.projectId(actor, target.project, action);
    return pickVersion(await this.deps.resolver.model(projectId, target.name), target);
  }

  /** `resolve` when the project and the model are both in memory, else undefined (the same checks, in the same order). */
  private resolveCached(actor: Principal, target: OipTarget, action: 'serving:predict' | 'deployment:write') {
    authorize(actor, action);
    const project = this.deps.cachedProject?.(target.project ?? this.deps.defaultProject);
    if (!project) return undefined;
    authorize(actor, action, project.id);
    const model = this.deps.resolver.cachedModel(project.id, target.name);
    return model ? pickVersion(model, target) : undefined;
  }
}

/** The version of `model` a target names (its default version when it names none). */
function pickVersion(model: ServedModel, target: OipTarget): { model: ServedModel; version: ServedVersion } {
  const wanted =
    target.version === undefined ? model.defaultVersion : /^\d{1,10}$/.test(target.version) ? Number(target.version) : null;
  const version = model.versions.find((v) => v.version === wanted);
  if (!version) {
    const what = target.version === undefined ? 'has no versions' : `has no version '${target.version.slice(0, 40)}'`;
    throw new AppError('NOT_FOUND', `model '${model.name}' ${what}`);
  }
  return { model, version };
}

const heldKey = (m: ServedModel): string => `${m.projectId}\u0000${m.name}`;

const heldError = (name: string): AppError =>
  new AppError('UNAVAILABLE', `model '${name}' is unloaded; POST /v2/repository/models/${name}/load to serve it again`);

function refOf(v: ServedVersion): ModelRef {
  return { digest: v.digest, size: v.size, signature: v.signature };
}
