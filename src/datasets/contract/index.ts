export { columnKind, columnMatches } from './column-types.ts';
export { type CompiledContract, compileContract } from './compile-contract.ts';
export type * from './contract-types.ts';
export { fieldTypes } from './contract-types.ts';
export { parseContract, parseStaleness, parseThreshold } from './parse-contract.ts';
export { compileRecordValidator, type RecordValidation, type RecordValidator } from './record-validator.ts';
export { type CompiledCheck, type RowRule, relationName } from './row-checks.ts';
export { maxSamples, type RunContractInput, runContract } from './run-contract.ts';
