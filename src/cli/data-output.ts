import type { DatasetVersionInfo } from '../client/index.ts';
import type { ColumnProfile, DatasetProfile, DatasetVersionSummary, ValidationReport } from '../datasets/index.ts';
import { formatNumber, formatTime, renderSection, renderTable, shortDigest, type TableSpec } from './output.ts';

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : String(v));
const clip = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export const versionsTable = (versions: DatasetVersionSummary[]): TableSpec => ({
  head: ['version', 'rows', 'columns', 'status', 'contract', 'parents', 'digest', 'created', 'by'],
  rows: versions.map((v) => [
    v.id,
    v.rows,
    v.columns.length,
    v.status,
    v.contract,
    v.lineage.parents.join(' '),
    shortDigest(v.digest),
    formatTime(v.createdAt),
    v.createdBy,
  ]),
});

const topOf = (c: ColumnProfile) =>
  (c.topValues ?? [])
    .slice(0, 3)
    .map((t) => `${clip(String(t.value), 16)}×${t.count}`)
    .join(' ');

/** One row per column: the numbers people look at first. */
export function profileTable(profile: DatasetProfile): TableSpec {
  return {
    head: ['column', 'type', 'nulls', 'distinct', 'min', 'max', 'mean', 'std', 'p05', 'p50', 'p95', 'top values'],
    rows: profile.columns.map((c) => [
      c.name,
      c.type,
      `${formatNumber(Number((100 * c.nullRate).toFixed(3)))}%`,
      cell(c.distinct),
      cell(c.min),
      cell(c.max),
      cell(c.mean),
      cell(c.std),
      cell(c.quantiles?.p05),
      cell(c.quantiles?.p50),
      cell(c.quantiles?.p95),
      topOf(c),
    ]),
  };
}

export function reportTable(report: ValidationReport): TableSpec {
  return {
    head: ['check', 'result', 'observed', 'threshold', 'failing rows', 'message'],
    rows: report.checks.map((c) => [
      c.name,
      c.passed ? 'pass' : 'FAIL',
      cell(typeof c.observed === 'number' && c.unit === 'percent' ? `${formatNumber(c.observed)}%` : c.observed),
      clip(
        typeof c.threshold === 'object' && c.threshold !== null
          ? JSON.stringify(c.threshold)
          : `${cell(c.threshold)}${c.unit === 'percent' ? '%' : ''}`,
        40,
      ),
      cell(c.failingRows),
      clip(c.message, 80),
    ]),
  };
}

/** The report for people: a verdict line, the checks, and a few sample rows of each failed check. */
export function renderReport(report: ValidationReport): string {
  const { name, version, policy } = report.contract;
  const verdict = report.passed ? 'PASSED' : `FAILED (${report.failed} of ${report.checks.length} checks)`;
  const head = `contract ${name}${version === null ? '' : `@${version}`} (${policy}) on ${report.rows} rows: ${verdict}`;
  const samples = report.checks
    .filter((c) => !c.passed && c.samples.length > 0)
    .map((c) => {
      const cols = Object.keys(c.samples[0] ?? {});
      const rows = c.samples.slice(0, 5).map((r) => cols.map((k) => clip(cell(r[k]), 30)));
      return renderSection(`samples of ${c.name} (${Math.min(5, c.samples.length)} of ${c.failingRows})`, { head: cols, rows });
    });
  return [head, renderTable(reportTable(report)), ...samples].join('\n\n');
}

export function versionFields(v: DatasetVersionInfo): [string, unknown][] {
  const source =
    v.source.kind === 'query'
      ? clip(v.source.query, 100)
      : v.source.kind === 'files'
        ? v.source.files.join(' ')
        : v.source.digests.join(' ');
  return [
    ['version', v.id],
    ['dataset', v.dataset],
    ['digest', v.digest],
    ['rows', v.rows],
    ['size', `${v.sizeBytes} bytes`],
    ['status', v.status],
    ['contract', v.contract ?? ''],
    ['source', `${v.source.kind}: ${source}`],
    ['parents', v.lineage.parents.join(' ')],
    ['children', (v.children ?? []).join(' ')],
    ['step', v.lineage.step ?? ''],
    ['run', v.lineage.runId ?? ''],
    ['created', formatTime(v.createdAt)],
    ['created by', v.createdBy],
  ];
}
