import { Cron } from 'croner';
import type { Principal } from '../auth/index.ts';
import type { Logger } from '../core/index.ts';
import type { EventBus } from '../storage/index.ts';
import type { PipelineService } from './pipeline-service.ts';
import type { PipelineStore } from './pipeline-stores.ts';
import type { PipelineDefinition } from './pipeline-types.ts';

export interface TriggerDeps {
  service: PipelineService;
  store: () => PipelineStore;
  bus: EventBus;
  logger: Logger;
  /** Triggered runs act as the key that applied the pipeline, as that key stands now (null: revoked). */
  principalFor(keyId: string): Promise<Principal | null>;
}

/**
 * Starts pipeline runs on a cron schedule, on a new version of a dataset, or on a bus event
 * (`{ event: topic }`, e.g. monitoring's retrain requests). Schedules follow the latest version
 * of each pipeline; `sync()` re-reads them after an apply.
 */
export class PipelineTriggers {
  private crons: { def: PipelineDefinition; job: Cron }[] = [];
  private unsubscribe: (() => void) | null = null;
  private definitions: PipelineDefinition[] = [];
  /** Triggers between firing and their run being started: `stop()` waits for them. */
  private readonly firing = new Set<Promise<void>>();

  constructor(private readonly deps: TriggerDeps) {}

  async start(): Promise<void> {
    this.unsubscribe = this.deps.bus.subscribe('*', (event) => this.onEvent(event.topic, event.projectId, event.payload));
    await this.sync();
  }

  /**
   * Stops the schedules and the bus subscription, then waits for triggers already firing, so that
   * once it resolves no new run can start (shutdown drains the runs after this).
   */
  async stop(): Promise<void> {
    for (const c of this.crons) c.job.stop();
    this.crons = [];
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.allSettled([...this.firing]);
  }

  async sync(): Promise<void> {
    for (const c of this.crons) c.job.stop();
    this.definitions = await this.deps.store().listDefinitions(null);
    this.crons = [];
    for (const def of this.definitions) {
      for (const t of def.spec.triggers) {
        if (!('cron' in t)) continue;
        const job = new Cron(t.cron, { ...(t.timezone ? { timezone: t.timezone } : {}), protect: true }, () =>
          this.fire(def, `cron:${t.cron}`),
        );
        this.crons.push({ def, job });
      }
    }
  }

  /** Next scheduled time per cron trigger, for `keel pipelines show`. */
  nextRuns(projectId: string, name: string): number[] {
    return this.crons
      .filter((c) => c.def.projectId === projectId && c.def.name === name)
      .map((c) => c.job.nextRun()?.getTime() ?? 0)
      .filter((t) => t > 0);
  }

  private async onEvent(topic: string, projectId: string, payload: Record<string, unknown>): Promise<void> {
    for (const def of this.definitions) {
      if (def.projectId !== projectId) continue;
      for (const t of def.spec.triggers) {
        if ('dataset' in t && topic === 'dataset.version.created' && payload.dataset === t.dataset) {
          await this.fire(def, `dataset:${t.dataset}@${String(payload.version)}`);
        } else if ('event' in t && t.event === topic) {
          await this.fire(def, `event:${topic}`);
        }
      }
    }
  }

  private fire(def: PipelineDefinition, trigger: string): Promise<void> {
    const started = this.startRun(def, trigger).finally(() => this.firing.delete(started));
    this.firing.add(started);
    return started;
  }

  private async startRun(def: PipelineDefinition, trigger: string): Promise<void> {
    try {
      const actor = await this.deps.principalFor(def.createdBy);
      if (!actor) {
        this.deps.logger.warn(
          { pipeline: def.name, trigger },
          'trigger skipped: the key that applied the pipeline is revoked or expired',
        );
        return;
      }
      const { run } = await this.deps.service.start(actor, def.projectId, def.name, { trigger });
      this.deps.logger.info({ pipeline: def.name, run: run.id, trigger }, 'pipeline run triggered');
    } catch (e) {
      this.deps.logger.warn({ err: e, pipeline: def.name, trigger }, 'trigger could not start a run');
    }
  }
}
