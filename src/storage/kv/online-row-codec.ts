import { createHash } from 'node:crypto';

/**
 * The compact row encoding shared by the SQLite and Redis online stores: a row's values in the
 * order of its feature list, joined by U+001F. One tag character says the type, so a value
 * decodes without a schema of types and without parsing the fields around it:
 *   ''        null (also NaN and ±Infinity, which JSON-minded callers cannot carry either)
 *   '1.5'     a number (shortest round-trip text; -0 reads back as 0)
 *   's…'      a string without U+001F;  'j"…"' a string with one, as JSON (which escapes it)
 *   't' 'f'   booleans
 * The feature list itself is stored once per view under a content hash (`schemaIdOf`).
 */
export type OnlineValue = number | string | boolean | null;

export const FIELD_SEP = '\x1f';

export function encodeValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : '';
    case 'string':
      return v.includes(FIELD_SEP) ? `j${JSON.stringify(v)}` : `s${v}`;
    case 'boolean':
      return v ? 't' : 'f';
    default:
      return '';
  }
}

/** Row `row` of a columnar batch, encoded: one string built by appending, no object per value. */
export function encodeRow(columns: readonly (readonly unknown[])[], row: number): string {
  let out = '';
  for (let f = 0; f < columns.length; f++) {
    if (f > 0) out += FIELD_SEP;
    out += encodeValue(columns[f]?.[row]);
  }
  return out;
}

/** What a stored value reads back as: the same normalisation the encoding applies. */
export function normalizeValue(v: unknown): OnlineValue {
  if (typeof v === 'number') return Number.isFinite(v) ? v + 0 : null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  return null;
}

/** A content hash of a feature list: writers and readers in any process agree without coordination. */
export function schemaIdOf(features: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(features)).digest('hex').slice(0, 16);
}

/** A stored feature list with its positions, resolved once per schema. */
export interface RowSchema {
  features: readonly string[];
  positions: ReadonlyMap<string, number>;
}

export function rowSchema(features: readonly string[]): RowSchema {
  return { features, positions: new Map(features.map((f, i) => [f, i])) };
}

/** Where each requested feature sits in rows of `schema` (-1: not stored), and the last field needed. */
export interface FieldPlan {
  fields: Int32Array;
  last: number;
}

export function fieldPlan(schema: RowSchema, requested: readonly string[]): FieldPlan {
  const fields = new Int32Array(requested.length);
  let last = -1;
  for (let r = 0; r < requested.length; r++) {
    const k = schema.positions.get(requested[r] as string) ?? -1;
    fields[r] = k;
    if (k > last) last = k;
  }
  return { fields, last };
}

function decodeValue(text: string, start: number, end: number): OnlineValue {
  if (start >= end) return null;
  switch (text.charCodeAt(start)) {
    case 115: // s
      return text.slice(start + 1, end);
    case 116: // t
      return true;
    case 102: // f
      return false;
    case 106: // j
      return JSON.parse(text.slice(start + 1, end)) as string;
    default:
      return Number(text.slice(start, end));
  }
}

// Field start offsets of the row being decoded; decoding is synchronous, so one buffer serves all.
let starts = new Int32Array(512);

/**
 * Decodes the planned fields of the row encoded in `text` from offset `from` into `out`, in
 * request order. Only fields up to the last one requested are scanned.
 */
export function decodeFields(text: string, from: number, plan: FieldPlan, out: OnlineValue[]): void {
  if (starts.length < plan.last + 2) starts = new Int32Array(plan.last + 2);
  let pos = from;
  for (let k = 0; k <= plan.last; k++) {
    starts[k] = pos;
    const sep = text.indexOf(FIELD_SEP, pos);
    pos = (sep < 0 ? text.length : sep) + 1;
  }
  starts[plan.last + 1] = pos;
  for (let r = 0; r < plan.fields.length; r++) {
    const k = plan.fields[r] as number;
    // A field ends one character before the next one starts; a short (damaged) row reads null.
    out[r] = k < 0 ? null : decodeValue(text, starts[k] as number, (starts[k + 1] as number) - 1);
  }
}
