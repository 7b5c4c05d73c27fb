import type { FeatureSpec, Table } from '../training-types.ts';

/** Test-only yardsticks: AUC, RMSE and a least-squares linear baseline to beat. */

export function auc(scores: Float64Array, y: Float64Array): number {
  const idx = Array.from(scores, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let rankSum = 0;
  let pos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1] as number] === scores[idx[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[idx[k] as number] === 1) {
        rankSum += rank;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function rmse(pred: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += ((pred[i] as number) - (y[i] as number)) ** 2;
  return Math.sqrt(s / y.length);
}

/** Linear design row: numeric values (NaN → 0 plus a missing flag) and one-hot categories. */
function designRow(table: Table, features: FeatureSpec[], vocab: Map<string, string[]>, i: number): number[] {
  const row = [1];
  for (const f of features) {
    const col = table.columns[f.name];
    if (col instanceof Float64Array) {
      const v = col[i] as number;
      row.push(Number.isNaN(v) ? 0 : v, Number.isNaN(v) ? 1 : 0);
    } else {
      for (const c of vocab.get(f.name) ?? []) row.push(col?.[i] === c ? 1 : 0);
    }
  }
  return row;
}

/** Ordinary least squares (ridge 1e-6) fitted on `train`, returning predictions on `test`. */
export function linearBaseline(train: Table, test: Table, features: FeatureSpec[], label: string): Float64Array {
  const vocab = new Map<string, string[]>();
  for (const f of features) {
    const col = train.columns[f.name];
    if (!(col instanceof Float64Array) && col) vocab.set(f.name, [...new Set(col.filter((c): c is string => c !== null))].sort());
  }
  const y = train.columns[label] as Float64Array;
  const d = designRow(train, features, vocab, 0).length;
  const a = Array.from({ length: d }, () => new Float64Array(d + 1));
  for (let i = 0; i < train.rows; i++) {
    const x = designRow(train, features, vocab, i);
    for (let r = 0; r < d; r++) {
      const ar = a[r] as Float64Array;
      for (let c = 0; c < d; c++) ar[c] = (ar[c] as number) + (x[r] as number) * (x[c] as number);
      ar[d] = (ar[d] as number) + (x[r] as number) * (y[i] as number);
    }
  }
  for (let r = 0; r < d; r++) (a[r] as Float64Array)[r] = ((a[r] as Float64Array)[r] as number) + 1e-6;
  // Gauss-Jordan with partial pivoting on the normal equations.
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++)
      if (Math.abs((a[r] as Float64Array)[c] as number) > Math.abs((a[p] as Float64Array)[c] as number)) p = r;
    const swap = a[c] as Float64Array<ArrayBuffer>;
    a[c] = a[p] as Float64Array<ArrayBuffer>;
    a[p] = swap;
    const pivot = a[c] as Float64Array;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const ar = a[r] as Float64Array;
      const factor = (ar[c] as number) / (pivot[c] as number);
      for (let k = c; k <= d; k++) ar[k] = (ar[k] as number) - factor * (pivot[k] as number);
    }
  }
  const w = a.map((row, r) => (row[d] as number) / (row[r] as number));
  return Float64Array.from({ length: test.rows }, (_, i) =>
    designRow(test, features, vocab, i).reduce((s, x, k) => s + x * (w[k] as number), 0),
  );
}
