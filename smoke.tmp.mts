import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, silentLogger } from './src/core/index.ts';
import { createKeel } from './src/main.ts';
import { systemPrincipal } from './src/auth/index.ts';
const dataDir = await mkdtemp(join(tmpdir(), 'keel-smoke-'));
const config = loadConfig({ env: {}, file: '/dev/null', overrides: { dataDir, log: { level: 'silent' } } });
const keel = await createKeel(config, { logger: silentLogger });
const ds = keel.ctx.datasets;
const project = (await keel.ctx.auth.resolveProject('default')).id;
const q = "select * from 'node_modules/vega-datasets/data/flights-3m.parquet' where date < '2001-01-02'";
let t = Date.now();
const r1 = await ds.register(systemPrincipal, { projectId: project, name: 'flights', source: { query: q } });
console.log(Date.now() - t, r1.created, r1.version.id, r1.version.rows, JSON.stringify(r1.version.profile.columns[1]));
const r2 = await ds.register(systemPrincipal, { projectId: project, name: 'flights', source: { query: q + ' order by delay desc' } });
console.log(r2.created, r2.version.id);
const yaml = `
name: flights
policy: warn
fields:
  date: { type: timestamp, required: true }
  delay: { type: int, required: true, min: -60, max: 1000 }
  origin: { type: string, required: true, pattern: '^[A-Z]{3}$' }
freshness: { field: date, max_staleness: 7d }
volume: { min_rows: 20000 }
`;
const rep = await ds.validate(systemPrincipal, { projectId: project, version: r1.version.id, contractYaml: yaml, asOf: Date.parse('2001-02-01') });
console.log(JSON.stringify(rep, null, 1).slice(0, 3000));
for (const bad of ["select * from read_csv('/etc/passwd')", "select * from '/etc/passwd'", "copy (select 1) to 'x.csv'", "select 1; select 2", "select * from read_text('x')", "select * from 'admin.key'", `select * from '${dataDir}/admin.key'`, "select * from '.keel/x.parquet'"]) {
  try { await ds.register(systemPrincipal, { projectId: project, name: 'bad', source: { query: bad } }); console.log('ACCEPTED', bad); } catch (e) { console.log((e as any).code, (e as Error).message); }
}
const derived = await ds.register(systemPrincipal, { projectId: project, name: 'late', source: { query: 'select * from flights where delay > 15' }, lineage: { step: 'filter' } });
console.log(derived.version.id, derived.version.rows, derived.version.lineage);
console.log(await ds.resolveDatasetPath(derived.version.id));
await keel.close();
