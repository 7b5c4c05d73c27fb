import type { Split } from './histogram.ts';

/**
 * Which rows each leaf of the tree being grown holds: `order[start..end)` is a leaf's rows, in
 * ascending row order. Partitioning moves only these indices (4 bytes a row, where moving whole
 * rows with their gradients was 24), reading the split feature's bins from its own column.
 */
export interface Workspace {
  order: Uint32Array;
  spare: Uint32Array;
  /** Bin codes per feature, column by column (`columns[f][row]`), for partitioning. */
  columns: Uint8Array[];
}

export function newWorkspace(rows: number, bins: Uint8Array, stride: number, features: number): Workspace {
  const columns = Array.from({ length: features }, (_, f) => {
    const column = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) column[r] = bins[r * stride + f] as number;
    return column;
  });
  return { order: new Uint32Array(rows), spare: new Uint32Array(rows), columns };
}

/** Bin → 1 when rows in it go left under this split: one table lookup instead of per-row branches. */
function leftTable(split: Split, missingBin: number): Uint8Array {
  const goes = new Uint8Array(256);
  if (split.set) goes.set(split.set.subarray(0, 256));
  else {
    for (let b = 0; b <= split.bin && b < 256; b++) goes[b] = 1;
    goes[missingBin] = split.missingLeft ? 1 : 0;
  }
  return goes;
}

/**
 * Stable partition of a leaf's rows; returns where the right child starts. Branch-free: each index is
 * written both to the left run (in place; position l never passes k) and to the spare buffer, and only
 * the side it belongs to advances, so the data's unpredictable directions cost no mispredictions.
 */
export function partition(work: Workspace, start: number, end: number, split: Split, missingBin: number): number {
  const { order, spare } = work;
  const column = work.columns[split.feature] as Uint8Array;
  const goes = leftTable(split, missingBin);
  let l = start;
  let r = 0;
  for (let k = start; k < end; k++) {
    const row = order[k] as number;
    const left = goes[column[row] as number] as number;
    order[l] = row;
    spare[r] = row;
    l += left;
    r += 1 - left;
  }
  order.set(spare.subarray(0, r), l);
  return l;
}
