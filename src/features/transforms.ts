import { pathToFileURL } from 'node:url';
import { AppError } from '../core/index.ts';
import { outputColumn } from './feature-catalog.ts';
import type { TransformDef } from './feature-definitions.ts';

type TransformFn = (inputs: Record<string, unknown>) => Record<string, unknown>;

export interface CompiledTransform {
  def: TransformDef;
  fn: TransformFn;
  /** For each input: the column it reads in a retrieval result (request field or `view__feature`). */
  inputColumns: { name: string; column: string }[];
}

/** Loads transform functions once; the same compiled functions serve offline and online. */
export async function loadTransforms(defs: TransformDef[]): Promise<CompiledTransform[]> {
  const out: CompiledTransform[] = [];
  for (const def of defs) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(def.module).href)) as Record<string, unknown>;
    } catch (e) {
      throw new AppError(
        'VALIDATION_FAILED',
        `transform '${def.name}': cannot load module ${def.module}: ${(e as Error).message}`,
      );
    }
    const fn = mod[def.function];
    if (typeof fn !== 'function')
      throw new AppError('VALIDATION_FAILED', `transform '${def.name}': ${def.module} exports no function '${def.function}'`);
    const inputColumns = def.inputs.map((ref) => {
      if (ref.startsWith('request.')) return { name: ref.slice(8), column: ref.slice(8) };
      const [view, feature] = ref.split(':');
      if (!view || !feature)
        throw new AppError(
          'VALIDATION_FAILED',
          `transform '${def.name}': input '${ref}' is neither request.<field> nor view:feature`,
        );
      return { name: feature, column: outputColumn(view, feature) };
    });
    out.push({ def, fn: fn as TransformFn, inputColumns });
  }
  return out;
}

/** Runs transforms over column-major data; returns their output columns by name. */
export function applyTransforms(
  transforms: CompiledTransform[],
  columns: Map<string, unknown[]>,
  rows: number,
): Map<string, unknown[]> {
  const outputs = new Map<string, unknown[]>();
  for (const t of transforms) {
    const ins = t.inputColumns.map((i) => {
      const col = columns.get(i.column);
      if (!col)
        throw new AppError(
          'VALIDATION_FAILED',
          `transform '${t.def.name}' needs '${i.column}', which the request does not provide`,
        );
      return [i.name, col] as const;
    });
    const outs = t.def.outputs.map((o) => [o.name, new Array<unknown>(rows)] as const);
    const record: Record<string, unknown> = {};
    for (let r = 0; r < rows; r++) {
      for (const [name, col] of ins) record[name] = col[r];
      const result = t.fn(record);
      for (const [name, col] of outs) col[r] = result?.[name] ?? null;
    }
    for (const [name, col] of outs) outputs.set(name, col);
  }
  return outputs;
}
