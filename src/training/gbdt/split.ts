/** What the split search needs to know and what it finds. */

export interface SplitRules {
  lambda: number;
  minChildWeight: number;
  minDataInLeaf: number;
  maxCatToOnehot: number;
  maxCatThreshold: number;
  catSmooth: number;
  catL2: number;
  minDataPerGroup: number;
}

export interface Split {
  gain: number;
  feature: number;
  /** Non-missing rows with bin <= this go left (numeric splits; -1 for set splits). */
  bin: number;
  /** Set splits of categorical features: `set[bin] === 1` goes left; missing values always go right. */
  set?: Uint8Array;
  missingLeft: boolean;
  leftG: number;
  leftH: number;
  leftCount: number;
}
