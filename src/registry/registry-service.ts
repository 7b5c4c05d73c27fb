import type { Readable } from 'node:stream';
import { type AuditStore, authorize, type Principal, recordAudit } from '../auth/index.ts';
import { AppError, type Clock, maxVersionNumber, newId, type Transactor } from '../core/index.ts';
import type { BlobInfo, BlobStore } from '../storage/index.ts';
import type { RunWithData, TrackingService } from '../tracking/index.ts';
import { compareSignature, readOnnxSignature } from './onnx/index.ts';
import type { ModelStore } from './registry-stores.ts';
import type {
  AliasMove,
  GateCheck,
  Lineage,
  ModelManifest,
  ModelSignature,
  ModelVersion,
  RegisteredModel,
} from './registry-types.ts';

export interface RegistryStores {
  models: ModelStore;
  audit: AuditStore;
}

/** A promotion gate: runs inside the alias-move transaction; any failed check refuses the move. */
export interface AliasGate {
  check(ctx: AliasGateContext): Promise<GateCheck[]>;
}

export interface AliasGateContext {
  model: RegisteredModel;
  alias: string;
  target: ModelVersion | null;
  currentVersion: number | null;
  actor: Principal;
  stores: RegistryStores;
}

export interface RegisterVersionInput {
  projectId: string;
  model: string;
  /** The ONNX bytes: uploaded directly, or taken from a run's artifact. */
  source: { kind: 'upload'; body: Readable } | { kind: 'blob'; digest: string } | { kind: 'run'; runId: string; path: string };
  signature?: ModelSignature;
  metrics?: Record<string, number>;
  lineage?: Partial<Lineage>;
  tags?: Record<string, string>;
  description?: string;
}

const aliasPattern = /^[a-z][a-z0-9_-]{0,63}$/;
const reservedAliases = new Set(['latest']);

export function checkAliasName(alias: string): void {
  if (!aliasPattern.test(alias) || reservedAliases.has(alias) || /^v\d+$/.test(alias)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `alias '${alias.slice(0, 80)}' must be 1–64 lowercase letters, digits, _ or -, start with a letter, and not be 'latest' or look like a version (v1)`,
    );
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export class RegistryService {
  constructor(
    private readonly tx: Transactor<RegistryStores>,
    private readonly blobs: BlobStore,
    private readonly tracking: TrackingService,
    private readonly clock: Clock,
    private readonly limits: { modelBytes: number },
    private readonly gates: AliasGate[] = [],
  ) {}

  private get s() {
    return this.tx.stores;
  }

  async createModel(actor: Principal, projectId: string, input: { name: string; description?: string }) {
    authorize(actor, 'registry:write', projectId);
    return this.tx.transaction((s) => this.insertModel(s, actor, projectId, input));
  }

  private async insertModel(
    s: RegistryStores,
    actor: Principal,
    projectId: string,
    input: { name: string; description?: string },
  ) {
    const model: RegisteredModel = {
      id: newId('model'),
      projectId,
      name: input.name,
      description: input.description ?? '',
      createdAt: this.clock.now(),
      createdBy: actor.id,
    };
    await s.models.createModel(model);
    await recordAudit(s.audit, this.clock, actor, {
      action: 'model.create',
      resourceType: 'model',
      resourceId: model.id,
      projectId,
      after: { name: model.name },
    });
    return model;
  }

  /** Finds a model by name or id and checks the caller may read it. */
  async getModel(actor: Principal, projectId: string, nameOrId: string): Promise<RegisteredModel> {
    authorize(actor, 'registry:read');
    const byId = nameOrId.startsWith('mdl_');
    // A name is looked up inside projectId: check scope first, so 404 vs 403 never tells a key which names exist there.
    if (!byId) authorize(actor, 'registry:read', projectId);
    const m = byId ? await this.s.models.getModel(nameOrId) : await this.s.models.getModelByName(projectId, nameOrId);
    if (!m) throw new AppError('NOT_FOUND', `model '${nameOrId}' does not exist`);
    authorize(actor, 'registry:read', m.projectId);
    return m;
  }

  async listModels(actor: Principal, projectIds: string[] | '*') {
    authorize(actor, 'registry:read');
    let ids = projectIds;
    if (ids === '*' && actor.projects !== '*') ids = [...actor.projects];
    if (ids !== '*') for (const p of ids) authorize(actor, 'registry:read', p);
    const models = await this.s.models.listModels(ids);
    return Promise.all(
      models.map(async (m) => ({
        ...m,
        latestVersion: await this.s.models.maxVersion(m.id),
        aliases: await this.s.models.listAliases(m.id),
      })),
    );
  }

  async listVersions(actor: Principal, projectId: string, model: string) {
    const m = await this.getModel(actor, projectId, model);
    const [versions, aliases] = await Promise.all([this.s.models.listVersions(m.id), this.s.models.listAliases(m.id)]);
    return versions.map((v) => ({ ...v, aliases: aliases.filter((a) => a.version === v.version).map((a) => a.alias) }));
  }

  /** A version by number, or by alias name. */
  async getVersion(actor: Principal, projectId: string, model: string, ref: string | number) {
    const m = await this.getModel(actor, projectId, model);
    const version = await this.resolveVersionNumber(m, ref);
    const v = await this.s.models.getVersion(m.id, version);
    if (!v) throw new AppError('NOT_FOUND', `model '${m.name}' has no version ${version}`);
    const aliases = (await this.s.models.listAliases(m.id)).filter((a) => a.version === v.version).map((a) => a.alias);
    return { ...v, modelName: m.name, aliases };
  }

  private async resolveVersionNumber(m: RegisteredModel, ref: string | number): Promise<number> {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) {
      const n = Number(ref);
      // Version columns are 32-bit: a larger number names no version, and Postgres would refuse to compare it.
      if (!Number.isInteger(n) || n > maxVersionNumber) {
        throw new AppError('NOT_FOUND', `model '${m.name}' has no version ${ref}`);
      }
      return n;
    }
    const alias = (await this.s.models.listAliases(m.id)).find((a) => a.alias === ref);
    if (!alias) throw new AppError('NOT_FOUND', `model '${m.name}' has no alias '${ref}'`);
    return alias.version;
  }

  /** Stores a file for a later registration; content-addressed, so re-uploads are free. */
  async upload(actor: Principal, body: Readable) {
    authorize(actor, 'registry:write');
    return this.blobs.put(body, { maxBytes: this.limits.modelBytes });
  }

  async openVersionArtifact(actor: Principal, projectId: string, model: string, ref: string | number) {
    const v = await this.getVersion(actor, projectId, model, ref);
    return { version: v, body: await this.blobs.open(v.artifactDigest) };
  }

  async registerVersion(actor: Principal, input: RegisterVersionInput) {
    authorize(actor, 'registry:write', input.projectId);
    let run: RunWithData | null = null;
    let bytes: Buffer;
    let blob: BlobInfo;
    if (input.source.kind === 'run') {
      run = await this.tracking.getRun(actor, input.source.runId);
      if (run.projectId !== input.projectId) throw new AppError('NOT_FOUND', `run '${input.source.runId}' does not exist`);
      const { artifact, body } = await this.tracking.getArtifact(actor, run.id, input.source.path);
      bytes = await readAll(body);
      blob = { digest: artifact.digest, size: artifact.size };
    } else if (input.source.kind === 'blob') {
      const found = await this.blobs.stat(input.source.digest);
      if (!found)
        throw new AppError('NOT_FOUND', `no upload with digest ${input.source.digest}: POST the file to /api/v1/uploads first`);
      blob = found;
      bytes = await this.blobs.read(blob.digest);
    } else {
      blob = await this.blobs.put(input.source.body, { maxBytes: this.limits.modelBytes });
      bytes = await this.blobs.read(blob.digest);
    }
    const onnx = readOnnxSignature(bytes);
    if (input.signature) {
      const problems = compareSignature(input.signature, onnx);
      if (problems.length > 0) {
        throw new AppError('SIGNATURE_MISMATCH', `the declared signature does not match the ONNX file: ${problems.join('; ')}`, {
          problems,
        });
      }
    }
    const manifest: ModelManifest = {
      format: 'onnx',
      signature: { inputs: onnx.inputs, outputs: onnx.outputs },
      metrics: input.metrics ?? Object.fromEntries((run?.metrics ?? []).map((m) => [m.key, m.value])),
      lineage: {
        runId: run?.id ?? input.lineage?.runId ?? null,
        datasetDigests: input.lineage?.datasetDigests ?? run?.inputs.map((i) => i.digest) ?? [],
        codeVersion: input.lineage?.codeVersion ?? run?.codeVersion ?? null,
        featureService: input.lineage?.featureService ?? null,
        evalDatasetDigest:
          input.lineage?.evalDatasetDigest ?? run?.inputs.find((i) => i.context === 'evaluation')?.digest ?? null,
      },
      tags: input.tags ?? {},
      opsets: onnx.opsets,
      producer: onnx.producer,
    };
    for (const [k, v] of Object.entries(manifest.metrics)) {
      if (!Number.isFinite(v)) throw new AppError('VALIDATION_FAILED', `metric '${k}' must be a finite number`);
    }
    // Two registrations racing for the same number: the loser's insert fails and it retries.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.tx.transaction(async (s) => {
          const model =
            (await s.models.getModelByName(input.projectId, input.model)) ??
            (await this.insertModel(s, actor, input.projectId, { name: input.model }));
          const version: ModelVersion = {
            id: newId('modelVersion'),
            modelId: model.id,
            version: (await s.models.maxVersion(model.id)) + 1,
            source: input.source.kind === 'run' ? 'run' : 'upload',
            runId: run?.id ?? null,
            artifactDigest: blob.digest,
            artifactSize: blob.size,
            manifest,
            description: input.description ?? '',
            createdAt: this.clock.now(),
            createdBy: actor.id,
          };
          await s.models.createVersion(version);
          await recordAudit(s.audit, this.clock, actor, {
            action: 'model.version.create',
            resourceType: 'model',
            resourceId: model.id,
            projectId: model.projectId,
            after: { model: model.name, version: version.version, digest: blob.digest, runId: version.runId },
          });
          return { ...version, modelName: model.name, aliases: [] as string[] };
        });
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'ALREADY_EXISTS' && attempt < 5)) throw e;
      }
    }
  }

  /**
   * The one way an alias moves (or is deleted, with `version: null`). Promotion gates run here,
   * inside the same transaction as the move, and every move is kept with its checks.
   */
  async moveAlias(
    actor: Principal,
    input: { projectId: string; model: string; alias: string; version: number | null; reason?: string },
  ): Promise<AliasMove> {
    const m = await this.getModel(actor, input.projectId, input.model);
    authorize(actor, 'alias:write', m.projectId);
    checkAliasName(input.alias);
    return this.tx
      .transaction((s) => this.applyMove(s, actor, m, input))
      .catch(async (e: unknown) => {
        if (e instanceof AppError && e.code === 'GATE_FAILED') {
          // The refused move rolled back with its transaction; its record must outlive it. A failure
          // to record it must not turn the caller's answer from GATE_FAILED into something else.
          await this.tx
            .transaction((s) =>
              recordAudit(s.audit, this.clock, actor, {
                action: 'model.alias.refuse',
                resourceType: 'model',
                resourceId: m.id,
                projectId: m.projectId,
                after: { alias: input.alias, version: input.version, failed: (e.details as { failed?: string[] }).failed ?? [] },
              }),
            )
            .catch(() => undefined);
        }
        throw e;
      });
  }

  private async applyMove(
    s: RegistryStores,
    actor: Principal,
    m: RegisteredModel,
    input: { alias: string; version: number | null; reason?: string },
  ): Promise<AliasMove> {
    const target = input.version === null ? null : await s.models.getVersion(m.id, input.version);
    if (input.version !== null && !target) {
      throw new AppError('NOT_FOUND', `model '${m.name}' has no version ${input.version}`);
    }
    const current = (await s.models.listAliases(m.id)).find((a) => a.alias === input.alias) ?? null;
    if (input.version === null && !current) throw new AppError('NOT_FOUND', `model '${m.name}' has no alias '${input.alias}'`);
    const checks: GateCheck[] = [];
    for (const gate of this.gates) {
      checks.push(
        ...(await gate.check({
          model: m,
          alias: input.alias,
          target,
          currentVersion: current?.version ?? null,
          actor,
          stores: s,
        })),
      );
    }
    const failed = checks.filter((c) => !c.passed);
    if (failed.length > 0) {
      const why = failed.map((c) => (c.message ? `${c.name} (${c.message})` : c.name)).join('; ');
      throw new AppError('GATE_FAILED', `promotion gates refused moving '${input.alias}' to version ${input.version}: ${why}`, {
        alias: input.alias,
        version: input.version,
        failed: failed.map((c) => c.name),
        checks,
      });
    }
    // Strictly increasing times per alias keep "where did it point at T" unambiguous.
    const last = await s.models.lastMoveAt(m.id, input.alias, Number.MAX_SAFE_INTEGER);
    const at = Math.max(this.clock.now(), (last?.at ?? 0) + 1);
    const move: AliasMove = {
      id: newId('aliasMove'),
      modelId: m.id,
      alias: input.alias,
      fromVersion: current?.version ?? null,
      toVersion: input.version,
      actor: actor.id,
      reason: input.reason ?? '',
      at,
      // null: no gate had anything to check (an unprotected alias, or no gates at all).
      checks: checks.length > 0 ? checks : null,
    };
    await s.models.setAlias(m.id, input.alias, input.version, at);
    await s.models.appendAliasMove(move);
    await recordAudit(s.audit, this.clock, actor, {
      action: input.version === null ? 'model.alias.delete' : 'model.alias.move',
      resourceType: 'model',
      resourceId: m.id,
      projectId: m.projectId,
      before: { alias: input.alias, version: move.fromVersion },
      after: { alias: input.alias, version: move.toVersion, reason: move.reason },
    });
    return move;
  }

  async aliasHistory(actor: Principal, projectId: string, model: string, alias?: string) {
    const m = await this.getModel(actor, projectId, model);
    return this.s.models.listAliasMoves(m.id, alias);
  }

  /** Which version `alias` pointed at, at time `at` (null: it pointed nowhere then). */
  async aliasAt(actor: Principal, projectId: string, model: string, alias: string, at: number) {
    const m = await this.getModel(actor, projectId, model);
    const move = await this.s.models.lastMoveAt(m.id, alias, at);
    // null means "pointed nowhere at `at`"; an alias that never existed is unknown, as for every other lookup.
    if (!move && !(await this.s.models.lastMoveAt(m.id, alias, Number.MAX_SAFE_INTEGER))) {
      throw new AppError('NOT_FOUND', `model '${m.name}' has no alias '${alias}'`);
    }
    return { model: m.name, alias, at, version: move?.toVersion ?? null, move };
  }
}
