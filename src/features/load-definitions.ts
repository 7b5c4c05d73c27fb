import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { AppError } from '../core/index.ts';
import { type Definitions, type DefinitionsInput, definitionsSchema } from './feature-definitions.ts';

/** Validates definitions (from YAML, JSON or TypeScript) with paths to name the bad keys. */
export function parseDefinitions(input: unknown, origin = 'definitions'): Definitions {
  const parsed = definitionsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${origin}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AppError('VALIDATION_FAILED', `invalid feature definitions: ${problems.join('; ')}`, { problems });
  }
  return parsed.data;
}

const merge = (parts: DefinitionsInput[]): DefinitionsInput => ({
  entities: parts.flatMap((p) => p.entities ?? []),
  sources: parts.flatMap((p) => p.sources ?? []),
  feature_views: parts.flatMap((p) => p.feature_views ?? []),
  transforms: parts.flatMap((p) => p.transforms ?? []),
  feature_services: parts.flatMap((p) => p.feature_services ?? []),
});

async function readOne(file: string): Promise<DefinitionsInput> {
  const ext = extname(file).toLowerCase();
  let raw: unknown;
  if (ext === '.ts' || ext === '.js' || ext === '.mjs') {
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown; definitions?: unknown };
    raw = mod.default ?? mod.definitions;
  } else {
    const doc = parseDocument(await readFile(file, 'utf8'));
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      throw new AppError('VALIDATION_FAILED', `${file}: malformed YAML: ${err?.message.split('\n')[0]}`);
    }
    raw = doc.toJS();
  }
  const checked = parseDefinitions(raw, file);
  // Paths in a file are relative to that file, so definitions apply the same from any directory.
  const base = dirname(file);
  for (const s of checked.sources) if (s.path && !isAbsolute(s.path)) s.path = resolveSourcePath(base, s.path);
  for (const t of checked.transforms) if (!isAbsolute(t.module)) t.module = resolve(base, t.module);
  return checked;
}

/** Source paths starting with node_modules/ or ./ resolve like a project path; the rest from the file. */
function resolveSourcePath(base: string, path: string): string {
  const fromFile = resolve(base, path);
  return path.startsWith('node_modules/') ? resolve(path) : fromFile;
}

/** Reads a definition file, or every .yaml/.yml/.json/.features.ts file of a directory (sorted), merged. */
export async function loadDefinitions(path: string): Promise<Definitions> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new AppError('NOT_FOUND', `no such file or directory: ${path}`);
  }
  const files = info.isDirectory()
    ? (await readdir(path))
        .filter((f) => /\.(ya?ml|json)$/.test(f) || f.endsWith('.features.ts'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const parts = await Promise.all(files.map(readOne));
  return parseDefinitions(merge(parts));
}
