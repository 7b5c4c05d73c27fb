import { Gauge } from 'prom-client';
import { systemPrincipal } from '../auth/index.ts';
import type { AppContext } from './app-context.ts';

/**
 * Freshness of every feature view as Prometheus gauges, computed when /metrics is scraped: how old
 * the materialized data is, and whether that breaks the view's max_staleness objective.
 */
export function registerFeatureMetrics(ctx: AppContext): void {
  const labelNames = ['project', 'view'] as const;
  // The registry reads all gauges at once, so each awaits one shared computation per scrape.
  let inflight: Promise<void> | null = null;
  const shared = () => {
    inflight ??= collectAll().finally(() => {
      inflight = null;
    });
    return inflight;
  };
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames, registers: [ctx.metrics.registry], collect: shared });
  const staleness = gauge(
    'keel_feature_view_staleness_seconds',
    'Age of the newest materialized data of a feature view (watermark to now)',
  );
  const stale = gauge(
    'keel_feature_view_stale',
    '1 when a feature view is older than its max_staleness objective (or never materialized), else 0',
  );
  const objective = gauge('keel_feature_view_max_staleness_seconds', 'The max_staleness objective of a feature view');
  async function collectAll(): Promise<void> {
    staleness.reset();
    stale.reset();
    objective.reset();
    for (const project of await ctx.auth.listProjects(systemPrincipal)) {
      // A project whose definitions cannot load now reports nothing rather than failing the scrape.
      const views = await ctx.materialization.status(systemPrincipal, project.id).catch(() => []);
      for (const v of views) {
        const labels = { project: project.name, view: v.view };
        if (v.stalenessMs !== null) staleness.set(labels, v.stalenessMs / 1000);
        stale.set(labels, v.stale ? 1 : 0);
        if (v.maxStalenessMs !== null) objective.set(labels, v.maxStalenessMs / 1000);
      }
    }
  }
}
