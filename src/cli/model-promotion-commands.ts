import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { exitCodeFor } from '../core/index.ts';
import type { GateCheck } from '../registry/index.ts';
import { clientOf, usageError, wantsJson } from './context.ts';
import { formatNumber, formatTime, printDetails, printResult, renderSection, shortDigest, type TableSpec } from './output.ts';

const show = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  if (Array.isArray(v)) return v.map(show).join('; ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // Metric bounds and regression baselines read better as inequalities than as JSON.
    if ('reference' in o && 'direction' in o) {
      const sign = o.direction === 'higher' ? '≥' : '≤';
      return `${sign} ${show(o.reference)} (v${show(o.referenceVersion)}) ${o.direction === 'higher' ? '−' : '+'} ${show(o.tolerance)}`;
    }
    const bounds = [o.min !== undefined ? `≥ ${show(o.min)}` : '', o.max !== undefined ? `≤ ${show(o.max)}` : ''].filter(Boolean);
    if (bounds.length > 0 && Object.keys(o).every((k) => k === 'min' || k === 'max')) return bounds.join(', ');
    return JSON.stringify(v);
  }
  return typeof v === 'string' && v.startsWith('sha256:') ? shortDigest(v) : String(v);
};

/** Gap limits are maxima and approval counts minima; say so next to the bare number. */
const showThreshold = (c: GateCheck): string => {
  if (typeof c.threshold !== 'number') return show(c.threshold);
  if (c.name.startsWith('max_segment_gap.')) return `≤ ${show(c.threshold)}`;
  return c.name === 'approvals' ? `≥ ${show(c.threshold)}` : show(c.threshold);
};

const checksTable = (checks: GateCheck[]): TableSpec => ({
  head: ['check', 'value', 'threshold', 'result', 'message'],
  rows: checks.map((c) => [c.name, show(c.value), showThreshold(c), c.passed ? 'pass' : 'FAIL', c.message ?? '']),
});

/** `keel models policy set|show`, `keel models approve`, `keel models gates`: promotion gates. */
export function registerModelPromotionCommands(models: Command): void {
  const policy = models.command('policy').description("a model's promotion policy (protected aliases and their checks)");

  policy
    .command('set <name>')
    .description('set the promotion policy from a YAML (or JSON) file (admin)')
    .requiredOption('-f, --file <policy.yaml>', 'the policy file')
    .action(async (name: string, opts: { file: string }, cmd: Command) => {
      let text: string;
      try {
        text = readFileSync(opts.file, 'utf8');
      } catch (e) {
        throw usageError(`cannot read ${opts.file}: ${(e as Error).message}`);
      }
      const p = await clientOf(cmd).promotion.setPolicy(name, text);
      if (wantsJson(cmd)) return printResult({ json: true }, p);
      process.stdout.write(
        `${name}: promotion policy set; protected aliases: ${p.policy.protectedAliases.join(', ') || 'none'}\n`,
      );
    });

  policy
    .command('show <name>')
    .description('the promotion policy as submitted')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const p = await clientOf(cmd).promotion.getPolicy(name);
      printDetails(
        { json: wantsJson(cmd) },
        p,
        [
          ['model', p.model],
          ['protected', p.policy.protectedAliases.join(', ')],
          ['updated', formatTime(p.updatedAt)],
          ['updated by', p.updatedBy],
        ],
        [p.source.trimEnd()],
      );
    });

  models
    .command('approve <name> <version>')
    .description('approve a version for a protected alias (deployer; not the key that registered it)')
    .option('--alias <alias>', 'the alias approved for (default: every protected alias)')
    .option('--comment <text>', 'kept with the approval and in the audit log')
    .action(async (name: string, version: string, opts: { alias?: string; comment?: string }, cmd: Command) => {
      const a = await clientOf(cmd).promotion.approve(name, version, opts);
      if (wantsJson(cmd)) return printResult({ json: true }, a);
      const scope = a.alias ? `'${a.alias}'` : 'every protected alias';
      process.stdout.write(
        `${a.created ? 'Approved' : 'Already approved:'} ${name} version ${a.version} for ${scope} by ${a.approver}.\n`,
      );
    });

  models
    .command('gates <name> <version>')
    .description('dry-run the promotion gate for a version and show checks stored with past moves')
    .option('--alias <alias>', 'only this alias (default: every protected alias)')
    .action(async (name: string, version: string, opts: { alias?: string }, cmd: Command) => {
      const r = await clientOf(cmd).promotion.gates(name, version, opts.alias);
      const refused = r.evaluations.filter((e) => !e.passed).map((e) => e.alias);
      // Scripts ask "may this version be promoted?": a refusal exits like a refused move would.
      if (refused.length > 0) process.exitCode = exitCodeFor('GATE_FAILED');
      if (wantsJson(cmd)) return printResult({ json: true }, r);
      const sections: string[] = [];
      if (r.evaluations.length === 0) sections.push(`${name} has no protected aliases: moves are not gated.`);
      for (const e of r.evaluations) {
        const head = `${e.alias} (now ${e.currentVersion === null ? 'unset' : `v${e.currentVersion}`})`;
        if (!e.protected) sections.push(`${head}: not protected, moves freely`);
        else sections.push(renderSection(`${head}: ${e.passed ? 'would pass' : 'would be refused'}`, checksTable(e.checks)));
      }
      for (const m of r.moves) {
        sections.push(
          renderSection(`stored: ${formatTime(m.at)} ${m.alias} → v${m.toVersion} by ${m.actor}`, checksTable(m.checks ?? [])),
        );
      }
      process.stdout.write(`${sections.join('\n\n')}\n`);
      if (refused.length > 0)
        process.stderr.write(`error: gates would refuse version ${r.version} for ${refused.join(', ')} [GATE_FAILED]\n`);
    });
}
