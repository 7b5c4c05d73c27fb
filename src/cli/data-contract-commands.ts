import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { clientOf, usageError, wantsJson } from './context.ts';
import { formatTime, printDetails, printResult } from './output.ts';

/** `keel data contract …`: versioned data contracts. */
export function registerDataContractCommands(data: Command): void {
  const contract = data.command('contract').description('data contracts (YAML, versioned)');

  contract
    .command('apply')
    .description('store a contract; a changed one becomes a new version, an unchanged one keeps its version')
    .requiredOption('-f, --file <contract.yaml>', 'the contract file')
    .action(async (opts: { file: string }, cmd: Command) => {
      let yaml: string;
      try {
        yaml = readFileSync(opts.file, 'utf8');
      } catch (e) {
        throw usageError(`cannot read ${opts.file}: ${(e as Error).message}`);
      }
      const c = await clientOf(cmd).data.applyContract(yaml);
      if (wantsJson(cmd)) return printResult({ json: true }, c);
      process.stdout.write(`${c.created ? 'Applied' : 'Unchanged:'} contract ${c.name}@${c.version} (${c.policy})\n`);
    });

  contract
    .command('list')
    .description('the latest version of each contract')
    .action(async (_opts: unknown, cmd: Command) => {
      const res = await clientOf(cmd).data.listContracts();
      printResult({ json: wantsJson(cmd) }, res, {
        head: ['name', 'version', 'policy', 'created', 'by'],
        rows: res.contracts.map((c) => [c.name, c.version, c.policy, formatTime(c.createdAt), c.createdBy]),
      });
    });

  contract
    .command('show <name>')
    .description('a contract (name or name@version) and its YAML')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const c = await clientOf(cmd).data.getContract(ref);
      printDetails(
        { json: wantsJson(cmd) },
        c,
        [
          ['contract', `${c.name}@${c.version}`],
          ['policy', c.policy],
          ['created', formatTime(c.createdAt)],
          ['created by', c.createdBy],
        ],
        [c.yaml.trimEnd()],
      );
    });
}
