import { attributeColumns, type Field, type FilterNode, isAttributeName, type OrderKey } from './filter-ast.ts';

/** The values a filter can see on one run; used by the in-memory store. */
export interface RunView {
  attributes: Record<string, string | number | null>;
  metrics: Map<string, number>;
  params: Map<string, string>;
  tags: Map<string, string>;
}

export function fieldValue(view: RunView, field: Field): string | number | null {
  switch (field.kind) {
    case 'metric':
      return view.metrics.get(field.key) ?? null;
    case 'param':
      return view.params.get(field.key) ?? null;
    case 'tag':
      return view.tags.get(field.key) ?? null;
    case 'attribute':
      return isAttributeName(field.key) ? (view.attributes[attributeColumns[field.key].column] ?? null) : null;
  }
}

/** SQL LIKE as a regular expression: `%` any run, `_` one character, the rest literal. */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '%') re += '[\\s\\S]*';
    else if (ch === '_') re += '[\\s\\S]';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'i' : '');
}

/** Compares strings by UTF-16 code units, as SQLite's default collation and Postgres "C" do. */
export function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** A missing value never matches, not even `!=` (as in MLflow and in the SQL compiler). */
export function evaluateFilter(node: FilterNode | null, view: RunView): boolean {
  if (node === null) return true;
  switch (node.op) {
    case 'and':
      return node.args.every((a) => evaluateFilter(a, view));
    case 'or':
      return node.args.some((a) => evaluateFilter(a, view));
    case 'not':
      return !evaluateFilter(node.arg, view);
    case 'in': {
      const v = fieldValue(view, node.field);
      if (v === null) return false;
      const hit = node.values.some((x) => compareValues(v, x) === 0);
      return node.negate ? !hit : hit;
    }
    case 'cmp': {
      const v = fieldValue(view, node.field);
      if (v === null) return false;
      if (node.cmp === 'like' || node.cmp === 'ilike') {
        return likeToRegExp(String(node.value), node.cmp === 'ilike').test(String(v));
      }
      const c = compareValues(v, node.value);
      switch (node.cmp) {
        case '=':
          return c === 0;
        case '!=':
          return c !== 0;
        case '<':
          return c < 0;
        case '<=':
          return c <= 0;
        case '>':
          return c > 0;
        case '>=':
          return c >= 0;
      }
    }
  }
}

/** Order: each key in its direction with missing values last, then run id ascending. */
export function compareRuns(order: OrderKey[], a: RunView, b: RunView): number {
  for (const key of order) {
    const va = fieldValue(a, key.field);
    const vb = fieldValue(b, key.field);
    if (va === null && vb === null) continue;
    if (va === null) return 1;
    if (vb === null) return -1;
    const c = compareValues(va, vb);
    if (c !== 0) return key.desc ? -c : c;
  }
  return compareValues(String(a.attributes.id), String(b.attributes.id));
}
