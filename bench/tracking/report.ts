import Table from 'cli-table3';
import { fmtMs, fmtRatio, type LatencyStats } from '../lib/stats.ts';
import type { SearchResult } from './search-bench.ts';

/** The acceptance targets, as Keel latency over direct latency. */
export const targets = { search: 1.5, logBatch: 2 };

// No colours: the tables are pasted into docs/benchmarks.md.
const plain = { head: [], border: [] };

const verdict = (ratio: number, target: number) => (ratio <= target ? 'PASS' : 'MISS');

export function searchTable(results: SearchResult[]): string {
  const t = new Table({
    style: plain,
    head: [
      'search (ms)',
      'Keel p50',
      'Keel p95',
      'Keel mean',
      'direct p50',
      'direct p95',
      'direct mean',
      'p50 ratio',
      'p95 ratio',
      'Keel req/s',
      'direct q/s',
      `≤${targets.search}×`,
    ],
  });
  for (const r of results) {
    const r50 = r.keel.p50 / r.direct.p50;
    const r95 = r.keel.p95 / r.direct.p95;
    t.push([
      r.kind,
      fmtMs(r.keel.p50),
      fmtMs(r.keel.p95),
      fmtMs(r.keel.mean),
      fmtMs(r.direct.p50),
      fmtMs(r.direct.p95),
      fmtMs(r.direct.mean),
      fmtRatio(r50),
      fmtRatio(r95),
      r.keel.throughput.toFixed(0),
      r.direct.throughput.toFixed(0),
      verdict(Math.max(r50, r95), targets.search),
    ]);
  }
  return t.toString();
}

export function singleTable(results: SearchResult[]): string {
  const t = new Table({
    style: plain,
    head: ['search, 1 client (ms)', 'Keel p50', 'Keel p95', 'direct p50', 'direct p95', 'p50 ratio'],
  });
  for (const { kind, single } of results) {
    t.push([
      kind,
      fmtMs(single.keel.p50),
      fmtMs(single.keel.p95),
      fmtMs(single.direct.p50),
      fmtMs(single.direct.p95),
      fmtRatio(single.keel.p50 / single.direct.p50),
    ]);
  }
  return t.toString();
}

export function logTable(points: number, keel: LatencyStats, direct: LatencyStats): string {
  const t = new Table({
    style: plain,
    head: [
      `log-batch of ${points} (ms)`,
      'Keel p50',
      'Keel p95',
      'direct p50',
      'direct p95',
      'p50 ratio',
      'p95 ratio',
      `p95 ≤${targets.logBatch}×`,
    ],
  });
  const r95 = keel.p95 / direct.p95;
  t.push([
    `${keel.count} batches`,
    fmtMs(keel.p50),
    fmtMs(keel.p95),
    fmtMs(direct.p50),
    fmtMs(direct.p95),
    fmtRatio(keel.p50 / direct.p50),
    fmtRatio(r95),
    verdict(r95, targets.logBatch),
  ]);
  return t.toString();
}
