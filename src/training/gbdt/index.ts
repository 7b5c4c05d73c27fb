export { GBDT_DEFAULTS, type GbdtParams } from './params.ts';
export { trainGbdt } from './trainer.ts';
