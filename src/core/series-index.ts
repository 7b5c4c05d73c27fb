/**
 * The series of a labelled metric, found by label set on the request path without prom-client's
 * per-call label check and hash: a label object seen before (callers keep theirs) through a
 * WeakMap, any other through one key joined from its values. As in prom-client, a series' labels
 * are written in the order of the first label object that made it.
 */
export class SeriesIndex<L extends string, S> {
  private readonly byKey = new Map<string, S>();
  private byObject = new WeakMap<object, S>();

  constructor(
    private readonly labelNames: readonly L[],
    private readonly make: (labels: Record<string, string>) => S,
  ) {}

  get(labels: Readonly<Record<L, string>>): S {
    let series = this.byObject.get(labels);
    if (series) return series;
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    series = this.byKey.get(key);
    if (!series) {
      const ordered: Record<string, string> = {};
      for (const name of Object.keys(labels))
        if ((this.labelNames as readonly string[]).includes(name)) ordered[name] = String(labels[name as L]);
      series = this.make(ordered);
      this.byKey.set(key, series);
    }
    this.byObject.set(labels, series);
    return series;
  }

  /** Every series, in the order they were made (the exposition's order). */
  all(): IterableIterator<S> {
    return this.byKey.values();
  }

  clear(): void {
    this.byKey.clear();
    this.byObject = new WeakMap();
  }
}
