const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Row indices by ascending score, ties in row order: a stable LSD radix sort on the doubles' bits
 * (8 passes of 8 bits). A comparator sort of 1M indices takes about half a second in V8; this takes
 * tens of milliseconds, which matters because every evaluation sorts once. Scores must not be NaN.
 */
export function sortByScore(scores: Float64Array): Uint32Array {
  const n = scores.length;
  // `+ 0` turns −0 into 0, so the two sort as the equal numbers they are. (A plain loop: Float64Array.from with a
  // mapping function is ~30× slower.)
  const copy = new Float64Array(n);
  for (let i = 0; i < n; i++) copy[i] = (scores[i] as number) + 0;
  const words = new Uint32Array(copy.buffer);
  const lowWord = littleEndian ? 0 : 1;
  const highWord = 1 - lowWord;
  // Map each double's bits to an unsigned key with the same order: flip all bits of negatives, the sign bit of the rest.
  for (let i = 0; i < n; i++) {
    const high = words[2 * i + highWord] as number;
    const negative = high >>> 31 === 1;
    words[2 * i + highWord] = negative ? ~high >>> 0 : (high | 0x80000000) >>> 0;
    if (negative) words[2 * i + lowWord] = ~(words[2 * i + lowWord] as number) >>> 0;
  }
  // Keys travel with their rows, so each pass reads sequentially; 8-bit digits keep the 256 write cursors in cache.
  let high = new Uint32Array(n);
  let low = new Uint32Array(n);
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    high[i] = words[2 * i + highWord] as number;
    low[i] = words[2 * i + lowWord] as number;
    order[i] = i;
  }
  let nextHigh = new Uint32Array(n);
  let nextLow = new Uint32Array(n);
  let nextOrder = new Uint32Array(n);
  const starts = new Uint32Array(256);
  for (let pass = 0; pass < 8; pass++) {
    const keys = pass < 4 ? low : high;
    const shift = (pass % 4) * 8;
    starts.fill(0);
    for (let k = 0; k < n; k++) {
      const digit = ((keys[k] as number) >>> shift) & 0xff;
      starts[digit] = (starts[digit] as number) + 1;
    }
    // A pass where every key has the same digit would only copy.
    if (starts.some((count) => count === n)) continue;
    let sum = 0;
    for (let d = 0; d < 256; d++) {
      const count = starts[d] as number;
      starts[d] = sum;
      sum += count;
    }
    for (let k = 0; k < n; k++) {
      const digit = ((keys[k] as number) >>> shift) & 0xff;
      const at = starts[digit] as number;
      nextHigh[at] = high[k] as number;
      nextLow[at] = low[k] as number;
      nextOrder[at] = order[k] as number;
      starts[digit] = at + 1;
    }
    [high, nextHigh] = [nextHigh, high];
    [low, nextLow] = [nextLow, low];
    [order, nextOrder] = [nextOrder, order];
  }
  return order;
}
