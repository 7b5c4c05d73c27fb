import { type SeedRun, T0 } from './run-search-dataset.ts';

/** A filter and, written independently of the stores, which runs it should match. */
export interface FilterCase {
  filter: string;
  expect: (r: SeedRun) => boolean;
}

const m = (r: SeedRun, k: string) => r.metrics[k];
const has = <T>(v: T | undefined): v is T => v !== undefined;
const inList = <T>(v: T | undefined, xs: T[]) => has(v) && xs.includes(v);

export const filterCases: FilterCase[] = [
  { filter: '', expect: () => true },
  { filter: 'metrics.acc > 0.5', expect: (r) => (m(r, 'acc') ?? -1) > 0.5 },
  { filter: 'metrics.acc >= 0.5 AND metrics.loss < 0.3', expect: (r) => (m(r, 'acc') ?? -1) >= 0.5 && (m(r, 'loss') ?? 9) < 0.3 },
  { filter: 'metrics.val.auc <= 0.25', expect: (r) => (m(r, 'val.auc') ?? 9) <= 0.25 },
  { filter: 'metrics.`val.auc` = 0.35', expect: (r) => m(r, 'val.auc') === 0.35 },
  { filter: 'metrics.loss = 0.5', expect: (r) => m(r, 'loss') === 0.5 },
  { filter: 'metrics.loss != 0.5', expect: (r) => has(m(r, 'loss')) && m(r, 'loss') !== 0.5 },
  { filter: 'metrics.f1 < 0', expect: (r) => (m(r, 'f1') ?? 0) < 0 },
  { filter: 'metrics.f1 in (0.1, 0.2, -0.35)', expect: (r) => inList(m(r, 'f1'), [0.1, 0.2, -0.35]) },
  { filter: 'metrics.f1 not in (0.1, 0.2)', expect: (r) => has(m(r, 'f1')) && !inList(m(r, 'f1'), [0.1, 0.2]) },
  { filter: 'metrics.missing > 0', expect: () => false },
  { filter: 'not metrics.acc > 0.5', expect: (r) => !((m(r, 'acc') ?? -1) > 0.5) },
  { filter: "params.lr = '0.01'", expect: (r) => r.params.lr === '0.01' },
  { filter: "params.depth > '5'", expect: (r) => has(r.params.depth) && r.params.depth > '5' },
  { filter: 'params.depth > 5', expect: (r) => has(r.params.depth) && r.params.depth > '5' },
  { filter: "params.depth <= '10'", expect: (r) => has(r.params.depth) && r.params.depth <= '10' },
  { filter: "params.depth in ('1', '10', '12')", expect: (r) => inList(r.params.depth, ['1', '10', '12']) },
  { filter: "params.`model.type` = 'tree'", expect: (r) => r.params['model.type'] === 'tree' },
  { filter: `params."model.type" like '%ree'`, expect: (r) => inList(r.params['model.type'], ['tree', 'Tree']) },
  { filter: "params.model.type ilike 'TREE'", expect: (r) => inList(r.params['model.type'], ['tree', 'Tree']) },
  { filter: "params.model.type like 'Linear%'", expect: (r) => r.params['model.type'] === 'Linear-SVM' },
  { filter: "params.opt like 'adam'", expect: (r) => r.params.opt === 'adam' },
  { filter: "params.opt ILIKE 'ADAM'", expect: (r) => inList(r.params.opt, ['Adam', 'adam']) },
  { filter: "params.opt ilike 's%'", expect: (r) => inList(r.params.opt, ['SGD', 'sgd_m']) },
  { filter: "params.opt > 'Z'", expect: (r) => inList(r.params.opt, ['adam', 'sgd_m']) },
  { filter: "tags.team = 'a' or tags.team = 'c'", expect: (r) => inList(r.tags.team, ['a', 'c']) },
  { filter: "tags.team != 'a'", expect: (r) => has(r.tags.team) && r.tags.team !== 'a' },
  { filter: "tags.env like 'P%'", expect: (r) => inList(r.tags.env, ['Prod', 'PROD']) },
  { filter: "tags.env ilike 'prod'", expect: (r) => inList(r.tags.env, ['prod', 'Prod', 'PROD']) },
  { filter: "tags.env < 'a'", expect: (r) => inList(r.tags.env, ['Prod', 'PROD']) },
  { filter: "tags.note like '50%'", expect: (r) => inList(r.tags.note, ['50%_off', '50x off']) },
  { filter: "tags.note like 'a_b'", expect: (r) => inList(r.tags.note, ['a_b', 'aXb']) },
  { filter: "tags.note = 'a_b'", expect: (r) => r.tags.note === 'a_b' },
  // The filter's own quoting turns \\ into one backslash, which LIKE then matches literally.
  { filter: "tags.note like 'c\\\\d'", expect: (r) => r.tags.note === 'c\\d' },
  { filter: "tags.note like '(x.y)'", expect: (r) => r.tags.note === '(x.y)' },
  { filter: "tags.note ilike 'X.Y'", expect: () => false },
  { filter: "tags.note ilike '%+%'", expect: (r) => r.tags.note === 'x+y' },
  { filter: "status = 'RUNNING'", expect: (r) => r.status === 'RUNNING' },
  { filter: "attributes.status in ('FINISHED', 'FAILED')", expect: (r) => inList(r.status, ['FINISHED', 'FAILED']) },
  { filter: "status not in ('RUNNING')", expect: (r) => r.status !== 'RUNNING' },
  { filter: `end_time > ${T0 + 20_000}`, expect: (r) => r.endTime !== null && r.endTime > T0 + 20_000 },
  { filter: 'not end_time > 0', expect: (r) => r.endTime === null },
  {
    filter: `start_time >= ${T0 + 10_000} and start_time < ${T0 + 20_000}`,
    expect: (r) => r.startTime >= T0 + 10_000 && r.startTime < T0 + 20_000,
  },
  { filter: `start_time = ${T0 + 5000}`, expect: (r) => r.startTime === T0 + 5000 },
  { filter: "run_name = 'alpha'", expect: (r) => r.name === 'alpha' },
  { filter: "run_name ilike 'alpha%'", expect: (r) => inList(r.name, ['alpha', 'Alpha', 'ALPHA-1']) },
  { filter: "attributes.run_name like '%a_2'", expect: (r) => inList(r.name, ['beta_2', 'beta-2']) },
  { filter: "run_name like 'delta%'", expect: (r) => r.name === 'delta%' },
  { filter: "experiment_id = 'exp_b'", expect: (r) => r.experimentId === 'exp_b' },
  {
    filter: "experiment_id != 'exp_a' and (metrics.acc > 0.3 or params.lr = '0.1')",
    expect: (r) => r.experimentId !== 'exp_a' && ((m(r, 'acc') ?? -1) > 0.3 || r.params.lr === '0.1'),
  },
  {
    filter: "(tags.team = 'b' or tags.env = 'dev') and not (status = 'KILLED' or metrics.loss >= 0.8)",
    expect: (r) => (r.tags.team === 'b' || r.tags.env === 'dev') && !(r.status === 'KILLED' || (m(r, 'loss') ?? -1) >= 0.8),
  },
  { filter: "not (not (params.depth = '3'))", expect: (r) => r.params.depth === '3' },
  { filter: "tags.team = 'a' and tags.team = 'b'", expect: () => false },
  {
    // AND binds tighter than OR.
    filter: "metrics.acc > 0.2 and metrics.acc < 0.8 and params.lr != '0.001' or tags.note like '%o%'",
    expect: (r) =>
      ((m(r, 'acc') ?? -1) > 0.2 && (m(r, 'acc') ?? 9) < 0.8 && has(r.params.lr) && r.params.lr !== '0.001') ||
      inList(r.tags.note, ['50%_off', '50x off']),
  },
];

/** Orderings to run every filter under; undefined is the default (start_time DESC). */
export const orderings: (string[] | undefined)[] = [
  undefined,
  ['metrics.acc ASC'],
  ['metrics.acc DESC'],
  ['metrics.val.auc desc', 'start_time asc'],
  ['params.depth'],
  ['params.opt DESC'],
  ['tags.env', 'metrics.loss desc'],
  ['end_time'],
  ['run_name DESC'],
  ['status', 'start_time'],
  ['experiment_id', 'tags.team desc'],
];
