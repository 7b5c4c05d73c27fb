/** A parsed run filter, shared by the SQL compiler and the in-memory evaluator. */
export type FieldKind = 'metric' | 'param' | 'tag' | 'attribute';

export interface Field {
  kind: FieldKind;
  key: string;
}

export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'like' | 'ilike';

export type FilterNode =
  | { op: 'and' | 'or'; args: FilterNode[] }
  | { op: 'not'; arg: FilterNode }
  | { op: 'cmp'; field: Field; cmp: Comparison; value: string | number }
  | { op: 'in'; field: Field; values: (string | number)[]; negate: boolean };

export interface OrderKey {
  field: Field;
  desc: boolean;
}

/** Attributes a filter or order may use, with their column and value type. */
export const attributeColumns = {
  run_id: { column: 'id', type: 'string' },
  id: { column: 'id', type: 'string' },
  name: { column: 'name', type: 'string' },
  run_name: { column: 'name', type: 'string' },
  status: { column: 'status', type: 'string' },
  start_time: { column: 'start_time', type: 'number' },
  end_time: { column: 'end_time', type: 'number' },
  experiment_id: { column: 'experiment_id', type: 'string' },
  created_by: { column: 'created_by', type: 'string' },
  code_version: { column: 'code_version', type: 'string' },
  parent_run_id: { column: 'parent_run_id', type: 'string' },
} as const;

export type AttributeName = keyof typeof attributeColumns;
export type RunColumn = (typeof attributeColumns)[AttributeName]['column'];

export const isAttributeName = (k: string): k is AttributeName => Object.hasOwn(attributeColumns, k);
