import { createHash } from 'node:crypto';

/**
 * The compact binary row encoding shared by the SQLite and Redis online stores. A row is its
 * values in the order of its feature list, each a type byte and a fixed or length-prefixed body:
 *   0 null (also NaN and ±Infinity)   1 float64 LE   2 int32 LE (-0 becomes 0)
 *   3 true   4 false   5 string: uint32 LE byte length, then UTF-8
 * Binary because formatting doubles as text cost 6× more than everything else on the write path
 * (bench/features-online), and reads decode a field with one typed read instead of a parse.
 * Redis rows carry a 14-byte header: event time (float64 LE, compared by the write script) and
 * the schema id (uint48 LE), the content hash of the feature list, stored once per view.
 */
export type OnlineValue = number | string | boolean | null;

export const ROW_HEADER_BYTES = 14;
const NULL = 0;
const F64 = 1;
const I32 = 2;
const TRUE = 3;
const FALSE = 4;
const STR = 5;

/** Rows `from`..`to`-1 encoded into one buffer; row r ends at `ends[r - from]` and starts where the previous ends. */
export interface EncodedRows {
  buf: Buffer;
  ends: Uint32Array;
}

function grown(buf: Buffer, used: number, need: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(buf.length * 2, need));
  buf.copy(next, 0, 0, used);
  return next;
}

/**
 * Encodes rows of a columnar batch straight from its columns: no object per value, one buffer per
 * call. With a schema id, each row starts with the Redis header.
 */
export function encodeRows(
  columns: readonly (readonly unknown[])[],
  eventTimes: ArrayLike<number>,
  from: number,
  to: number,
  schemaId: number | null,
): EncodedRows {
  const header = schemaId === null ? 0 : ROW_HEADER_BYTES;
  let buf: Buffer = Buffer.allocUnsafe((to - from) * (header + columns.length * 9) + 64);
  const ends = new Uint32Array(to - from);
  let o = 0;
  for (let r = from; r < to; r++) {
    if (o + header + columns.length * 9 > buf.length) buf = grown(buf, o, o + header + columns.length * 9);
    if (schemaId !== null) {
      buf.writeDoubleLE(eventTimes[r] as number, o);
      buf.writeUIntLE(schemaId, o + 8, 6);
      o += header;
    }
    for (let f = 0; f < columns.length; f++) {
      const v = columns[f]?.[r];
      if (typeof v === 'number') {
        if ((v | 0) === v) {
          buf[o] = I32;
          buf.writeInt32LE(v, o + 1);
          o += 5;
        } else if (Number.isFinite(v)) {
          buf[o] = F64;
          buf.writeDoubleLE(v, o + 1);
          o += 9;
        } else buf[o++] = NULL;
      } else if (typeof v === 'string') {
        // Reserve the worst case (3 bytes per UTF-16 unit) plus what the remaining fields may take.
        const need = o + 5 + v.length * 3 + (columns.length - f) * 9;
        if (need > buf.length) buf = grown(buf, o, need);
        buf[o] = STR;
        const n = buf.write(v, o + 5, 'utf8');
        buf.writeUInt32LE(n, o + 1);
        o += 5 + n;
      } else if (typeof v === 'boolean') buf[o++] = v ? TRUE : FALSE;
      else buf[o++] = NULL;
    }
    ends[r - from] = o;
  }
  return { buf, ends };
}

/** What a value reads back as: the normalisation the encoding applies, for adapters that keep values as-is. */
export function normalizeValue(v: unknown): OnlineValue {
  if (typeof v === 'number') return Number.isFinite(v) ? v + 0 : null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  return null;
}

/** A 48-bit content hash of a feature list: writers and readers in any process agree without coordination. */
export function schemaIdOf(features: readonly string[]): number {
  return Number.parseInt(createHash('sha256').update(JSON.stringify(features)).digest('hex').slice(0, 12), 16);
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

/**
 * Plans by requested-feature array and stored schema. Callers that reuse their feature arrays (a
 * compiled read plan) pay for planning once; a fresh array per call is planned per call.
 */
export class FieldPlanCache {
  private readonly byRequest = new WeakMap<readonly string[], Map<RowSchema, FieldPlan>>();

  get(schema: RowSchema, requested: readonly string[]): FieldPlan {
    let plans = this.byRequest.get(requested);
    if (!plans) {
      plans = new Map();
      this.byRequest.set(requested, plans);
    }
    let plan = plans.get(schema);
    if (!plan) {
      plan = fieldPlan(schema, requested);
      plans.set(schema, plan);
    }
    return plan;
  }
}

/** Bytes taken by the field at `pos`, or -1 when the row is cut short (damaged). */
function fieldSize(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  switch (buf[pos]) {
    case F64:
      return pos + 9 <= buf.length ? 9 : -1;
    case I32:
      return pos + 5 <= buf.length ? 5 : -1;
    case STR:
      return pos + 5 <= buf.length && pos + 5 + buf.readUInt32LE(pos + 1) <= buf.length ? 5 + buf.readUInt32LE(pos + 1) : -1;
    default:
      return 1;
  }
}

function decodeValue(buf: Buffer, pos: number): OnlineValue {
  switch (buf[pos]) {
    case F64:
      return buf.readDoubleLE(pos + 1);
    case I32:
      return buf.readInt32LE(pos + 1);
    case TRUE:
      return true;
    case FALSE:
      return false;
    case STR:
      return buf.toString('utf8', pos + 5, pos + 5 + buf.readUInt32LE(pos + 1));
    default:
      return null;
  }
}

// Field offsets of the row being decoded; decoding is synchronous, so one buffer serves all.
let starts = new Int32Array(512);

/**
 * Decodes the planned fields of the row starting at `from` in `buf` into `out`, in request order.
 * Only fields up to the last one requested are walked; fields of a damaged row read null.
 */
export function decodeFields(buf: Buffer, from: number, plan: FieldPlan, out: OnlineValue[]): void {
  if (starts.length <= plan.last) starts = new Int32Array(plan.last + 1);
  let pos = from;
  for (let k = 0; k <= plan.last; k++) {
    const size = pos < 0 ? -1 : fieldSize(buf, pos);
    starts[k] = size < 0 ? -1 : pos;
    pos = size < 0 ? -1 : pos + size;
  }
  for (let r = 0; r < plan.fields.length; r++) {
    const k = plan.fields[r] as number;
    const at = k < 0 ? -1 : (starts[k] as number);
    out[r] = at < 0 ? null : decodeValue(buf, at);
  }
}
