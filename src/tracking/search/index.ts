export { compileFilter, keysetAfter, orderExpression } from './compile-filter-sql.ts';
export { compareRuns, evaluateFilter, fieldValue, likeToRegExp, type RunView } from './evaluate-filter.ts';
export type { Field, FilterNode, OrderKey } from './filter-ast.ts';
export { isNumericField, parseFilter, parseOrderBy } from './parse-filter.ts';
