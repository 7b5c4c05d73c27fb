import { parseDocument } from 'yaml';
import { z } from 'zod';
import { AppError, parseDuration } from '../core/index.ts';

const nameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, _ or -, starting with a letter');
const durationSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const retrySchema = z
  .object({
    max_attempts: z.number().int().min(1).max(20).default(1),
    initial_delay: durationSchema.default(1000),
    max_delay: durationSchema.default(60_000),
  })
  .strict();

/** `inputs: { local_name: step.output }`: where a step's inputs come from. */
const inputRefSchema = z.string().regex(/^[a-z][a-z0-9_-]*\.[A-Za-z0-9_.-]+$/, 'a reference like step.output');

const stepSchema = z
  .object({
    name: nameSchema,
    kind: z.string().min(1),
    inputs: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), inputRefSchema).default({}),
    needs: z.array(nameSchema).default([]),
    params: z.record(z.string(), z.unknown()).default({}),
    retry: retrySchema.optional(),
    timeout: durationSchema.optional(),
  })
  .strict();

const triggerSchema = z.union([
  z.object({ cron: z.string().min(1), timezone: z.string().optional() }).strict(),
  z.object({ dataset: z.string().min(1) }).strict(),
  z.object({ event: z.string().regex(/^[A-Za-z0-9_.-]+$/) }).strict(),
]);

export const pipelineSpecSchema = z
  .object({
    name: nameSchema,
    description: z.string().default(''),
    /** Defaults for `${params.x}` in step params; a run may override them. */
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    /** Steps running at once within one run. */
    concurrency: z.number().int().min(1).max(64).default(2),
    triggers: z.array(triggerSchema).default([]),
    steps: z.array(stepSchema).min(1),
  })
  .strict();

export type PipelineSpec = z.output<typeof pipelineSpecSchema>;
export type PipelineSpecInput = z.input<typeof pipelineSpecSchema>;
export type StepSpec = PipelineSpec['steps'][number];
export type TriggerSpec = PipelineSpec['triggers'][number];

function invalid(problems: string[]): AppError {
  return new AppError('VALIDATION_FAILED', `invalid pipeline: ${problems.join('; ')}`, { problems });
}

/** Validates a pipeline and its DAG: unique step names, known references, no cycles. */
export function parsePipelineSpec(input: unknown, knownKinds?: ReadonlySet<string>): PipelineSpec {
  const parsed = pipelineSpecSchema.safeParse(input ?? {});
  if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  const spec = parsed.data;
  const problems: string[] = [];
  const names = new Set<string>();
  for (const s of spec.steps) {
    if (names.has(s.name)) problems.push(`steps: duplicate step name '${s.name}'`);
    names.add(s.name);
    if (knownKinds && !knownKinds.has(s.kind)) {
      problems.push(`steps.${s.name}.kind: unknown step kind '${s.kind}' (known: ${[...knownKinds].join(', ')})`);
    }
  }
  for (const s of spec.steps) {
    for (const dep of dependenciesOf(s)) {
      if (!names.has(dep)) problems.push(`steps.${s.name}: depends on unknown step '${dep}'`);
      if (dep === s.name) problems.push(`steps.${s.name}: depends on itself`);
    }
  }
  if (problems.length === 0) {
    const cycle = findCycle(spec.steps);
    if (cycle) problems.push(`steps: dependency cycle ${cycle.join(' → ')}`);
  }
  if (problems.length > 0) throw invalid(problems);
  return spec;
}

export function parsePipelineYaml(text: string, knownKinds?: ReadonlySet<string>): PipelineSpec {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new AppError('VALIDATION_FAILED', `malformed pipeline YAML: ${doc.errors[0]?.message.split('\n')[0]}`);
  }
  return parsePipelineSpec(doc.toJS(), knownKinds);
}

/** Steps a step waits for: those its inputs come from, and those it names in `needs`. */
export function dependenciesOf(step: StepSpec): string[] {
  const fromInputs = Object.values(step.inputs).map((ref) => ref.slice(0, ref.indexOf('.')));
  return [...new Set([...fromInputs, ...step.needs])];
}

function findCycle(steps: StepSpec[]): string[] | null {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    path.push(name);
    for (const dep of dependenciesOf(byName.get(name) as StepSpec)) {
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const s of steps) {
    const found = visit(s.name);
    if (found) return found;
  }
  return null;
}

/** Substitutes `${params.name}` in step params; a whole-string reference keeps the value's type. */
export function resolveParams(value: unknown, params: Record<string, string | number | boolean>): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{params\.([A-Za-z0-9_]+)\}$/.exec(value);
    if (whole) return lookup(params, whole[1] as string);
    return value.replace(/\$\{params\.([A-Za-z0-9_]+)\}/g, (_, k: string) => String(lookup(params, k)));
  }
  if (Array.isArray(value)) return value.map((v) => resolveParams(v, params));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveParams(v, params)]));
  }
  return value;
}

function lookup(params: Record<string, string | number | boolean>, key: string) {
  if (!(key in params)) throw new AppError('VALIDATION_FAILED', `unknown pipeline param '${key}'`);
  return params[key] as string | number | boolean;
}
