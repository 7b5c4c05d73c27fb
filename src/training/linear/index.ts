export { minimizeLbfgs } from './lbfgs.ts';
export { DEFAULT_LINEAR_PARAMS, type LinearParams, trainLogisticRegression } from './train-linear.ts';
