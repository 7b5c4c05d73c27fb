import { InvalidArgumentError } from 'commander';
import { parseDuration as coreDuration } from '../core/index.ts';

/**
 * Option-value parsers. They throw commander's InvalidArgumentError so bad input is reported
 * with the option name and exits 2 like every other usage error.
 */

export interface Pair {
  key: string;
  value: string;
}

export function parsePair(raw: string): Pair {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got '${raw}'`);
  return { key: raw.slice(0, eq), value: raw.slice(eq + 1) };
}

function parseNumber(raw: string, what: string): number {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a number, got '${raw}'`);
  return n;
}

/** `key=value` with a numeric value (model metrics). */
export function parseNumericPair(raw: string): { key: string; value: number } {
  const { key, value } = parsePair(raw);
  return { key, value: parseNumber(value, `the value of '${key}'`) };
}

/** `key=value[@step]` for run metrics; the step defaults to 0. */
export function parseMetricPoint(raw: string): { key: string; value: number; step: number } {
  const { key, value } = parsePair(raw);
  const at = value.lastIndexOf('@');
  const step = at < 0 ? 0 : Number(value.slice(at + 1));
  if (!Number.isSafeInteger(step)) throw new InvalidArgumentError(`the step of '${key}' must be an integer, got '${raw}'`);
  return { key, value: parseNumber(at < 0 ? value : value.slice(0, at), `the value of '${key}'`), step };
}

export function parsePositiveInt(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new InvalidArgumentError(`expected a positive integer, got '${raw}'`);
  return Number(raw);
}

/** `30d`, `12h`, `15m`, `3600s` or bare seconds → whole seconds (the core duration parser, in seconds). */
export function parseDuration(raw: string): number {
  const trimmed = raw.trim();
  let seconds = 0;
  try {
    seconds = /^\d+$/.test(trimmed) ? Number(trimmed) : coreDuration(trimmed) / 1000;
  } catch {
    // reported below as a usage error
  }
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new InvalidArgumentError(`expected a duration like 30d, 12h, 15m or 3600s, got '${raw}'`);
  return seconds;
}

/** Epoch milliseconds or an ISO-8601 time → epoch ms. */
export function parseTime(raw: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`expected an ISO-8601 time or epoch milliseconds, got '${raw}'`);
  return ms;
}

/** `a,b,c` → ['a', 'b', 'c']. */
export function parseList(raw: string): string[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return items;
}

/** Makes a parser repeatable: `--tag a=1 --tag b=2` collects both. */
export const repeatable =
  <T>(parse: (raw: string) => T) =>
  (raw: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(raw)];

/** Repeated pairs → an object; the last value of a key wins. */
export const toRecord = <V>(pairs: { key: string; value: V }[] | undefined): Record<string, V> =>
  Object.fromEntries((pairs ?? []).map((p) => [p.key, p.value]));
