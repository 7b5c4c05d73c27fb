import { AppError, seededRandom } from '../../core/index.ts';

export { seededRandom };

export interface GbdtParams {
  /** Maximum boosting iterations (one tree each). */
  numTrees: number;
  learningRate: number;
  maxDepth: number;
  /** Leaf-wise growth stops at this many leaves per tree (or when no split gains). */
  numLeaves: number;
  /** Minimum hessian sum per leaf. */
  minChildWeight: number;
  minDataInLeaf: number;
  /** L2 penalty on leaf values. */
  lambda: number;
  /** Fraction of training rows drawn for each tree. */
  rowSubsample: number;
  /** Fraction of features offered to each tree. */
  colSubsample: number;
  /** Bins per feature for non-missing values (missing values get one more). */
  maxBins: number;
  /** Stop after this many iterations without a better validation loss; 0 disables. */
  earlyStoppingRounds: number;
  /** Categorical splits: a feature with at most this many categories splits one category against the rest. */
  maxCatToOnehot: number;
  /** Categorical splits: at most this many categories on the set side of a split. */
  maxCatThreshold: number;
  /** Categorical splits: pseudo-hessian added when ranking categories by gradient ratio; rarer categories are not offered. */
  catSmooth: number;
  /** Categorical splits: extra L2 penalty when scoring a set split. */
  catL2: number;
  /** Categorical splits: minimum rows per step of the set and on its other side. */
  minDataPerGroup: number;
  seed: number;
}

export const GBDT_DEFAULTS: GbdtParams = {
  numTrees: 200,
  learningRate: 0.1,
  maxDepth: 8,
  numLeaves: 31,
  minChildWeight: 1e-3,
  minDataInLeaf: 20,
  lambda: 0,
  rowSubsample: 1,
  colSubsample: 1,
  maxBins: 255,
  earlyStoppingRounds: 20,
  // LightGBM's defaults, whose categorical split search this follows.
  maxCatToOnehot: 4,
  maxCatThreshold: 32,
  catSmooth: 10,
  catL2: 10,
  minDataPerGroup: 100,
  seed: 0,
};

type Check = (v: number) => boolean;
const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) =>
    Number.isInteger(v) && v >= min && v <= max;
const atLeast =
  (min: number): Check =>
  (v) =>
    Number.isFinite(v) && v >= min;
const fraction: Check = (v) => Number.isFinite(v) && v > 0 && v <= 1;

const RULES: Record<keyof GbdtParams, [Check, string]> = {
  numTrees: [int(1, 100_000), 'an integer in [1, 100000]'],
  learningRate: [(v) => Number.isFinite(v) && v > 0 && v <= 1, 'a number in (0, 1]'],
  maxDepth: [int(1, 64), 'an integer in [1, 64]'],
  numLeaves: [int(2, 65_536), 'an integer in [2, 65536]'],
  minChildWeight: [atLeast(0), 'a number >= 0'],
  minDataInLeaf: [int(1), 'an integer >= 1'],
  lambda: [atLeast(0), 'a number >= 0'],
  rowSubsample: [fraction, 'a number in (0, 1]'],
  colSubsample: [fraction, 'a number in (0, 1]'],
  maxBins: [int(2, 255), 'an integer in [2, 255]'],
  earlyStoppingRounds: [int(0), 'an integer >= 0 (0 disables)'],
  maxCatToOnehot: [int(1, 255), 'an integer in [1, 255]'],
  maxCatThreshold: [int(1, 255), 'an integer in [1, 255]'],
  catSmooth: [atLeast(0), 'a number >= 0'],
  catL2: [atLeast(0), 'a number >= 0'],
  minDataPerGroup: [int(1), 'an integer >= 1'],
  seed: [int(0, 2 ** 32 - 1), 'an integer in [0, 2^32)'],
};

/** Fills defaults and rejects unknown or out-of-range values, so a typo never trains silently with a default. */
export function resolveParams(given: Partial<GbdtParams> | undefined, inputSeed: number | undefined): GbdtParams {
  const out: GbdtParams = { ...GBDT_DEFAULTS, ...(inputSeed === undefined ? {} : { seed: inputSeed }) };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    const rule = RULES[key as keyof GbdtParams];
    if (!rule) throw new AppError('VALIDATION_FAILED', `unknown GBDT parameter '${key}'`);
    if (typeof value !== 'number' || !rule[0](value)) {
      throw new AppError('VALIDATION_FAILED', `GBDT parameter '${key}' must be ${rule[1]}, got ${String(value)}`);
    }
    out[key as keyof GbdtParams] = value;
  }
  // TrainInput.seed is the fallback seed and gets the same check as the parameter.
  if (!RULES.seed[0](out.seed)) throw new AppError('VALIDATION_FAILED', `seed must be ${RULES.seed[1]}, got ${out.seed}`);
  return out;
}
