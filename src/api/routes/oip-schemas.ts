import { z } from 'zod';
import { isPlainObject, isRecordWithShortKeys, isShortString, onlyKeys, withFastAccept } from '../fast-validation.ts';

/**
 * The /v2 request schemas. Infer is the hottest route Keel has, so its schemas carry fast paths
 * (see fast-validation.ts): a well-formed request is checked in plain loops and used as parsed,
 * anything else goes through zod, which writes the error.
 */
const maxName = 256;
const parameters = z.record(z.string().max(maxName), z.unknown());
export const indexBody = z
  .object({ repository_name: z.string().max(maxName).optional(), ready: z.boolean().optional() })
  .nullish();
export const controlBody = z.object({ parameters: parameters.optional() }).nullish();

const nameOk = (v: unknown) => isShortString(v, maxName, 1);
export const modelParams = withFastAccept(
  z.object({ name: z.string().min(1).max(maxName) }),
  (p) => isPlainObject(p) && onlyKeys(p, ['name']) && nameOk(p.name),
);
export const versionParams = withFastAccept(
  modelParams.extend({ version: z.string().min(1).max(64) }),
  (p) => isPlainObject(p) && onlyKeys(p, ['name', 'version']) && nameOk(p.name) && isShortString(p.version, 64, 1),
);

const maxTensors = 1000;
const inputKeys = ['name', 'shape', 'datatype', 'data', 'parameters'] as const;
const outputKeys = ['name', 'parameters'] as const;
const bodyKeys = ['id', 'parameters', 'inputs', 'outputs'] as const;
const optionalParameters = (v: unknown) => v === undefined || isRecordWithShortKeys(v, maxName);

/** An input as zod returns it: every one of its keys present (shape, datatype and data are checked when decoded). */
function isPlainInput(v: unknown): boolean {
  return (
    isPlainObject(v) &&
    onlyKeys(v, inputKeys) &&
    isShortString(v.name, maxName) &&
    'shape' in v &&
    'datatype' in v &&
    'data' in v &&
    optionalParameters(v.parameters)
  );
}

const isPlainOutput = (v: unknown): boolean =>
  isPlainObject(v) && onlyKeys(v, outputKeys) && isShortString(v.name, maxName) && optionalParameters(v.parameters);

function everyOf(list: unknown, max: number, check: (v: unknown) => boolean): boolean {
  if (!Array.isArray(list) || list.length > max) return false;
  for (const v of list) if (!check(v)) return false;
  return true;
}

export const inferBody = withFastAccept(
  z.object({
    id: z.string().max(1024).optional(),
    parameters: parameters.optional(),
    inputs: z
      .array(
        z.object({
          name: z.string().max(maxName),
          shape: z.unknown(),
          datatype: z.unknown(),
          data: z.unknown(),
          parameters: parameters.optional(),
        }),
      )
      .max(maxTensors),
    outputs: z
      .array(z.object({ name: z.string().max(maxName), parameters: parameters.optional() }))
      .max(maxTensors)
      .optional(),
  }),
  (b) =>
    isPlainObject(b) &&
    onlyKeys(b, bodyKeys) &&
    (b.id === undefined || isShortString(b.id, 1024)) &&
    optionalParameters(b.parameters) &&
    everyOf(b.inputs, maxTensors, isPlainInput) &&
    (b.outputs === undefined || everyOf(b.outputs, maxTensors, isPlainOutput)),
);
