import { AppError } from './errors.ts';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90s`, `15m`, `1h`, `24h`, `7d`, `2w` (or a number of ms) into milliseconds. */
export function parseDuration(value: string | number, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(value);
    if (m) return Math.round(Number(m[1]) * (unitMs[m[2] as string] as number));
  }
  throw new AppError('VALIDATION_FAILED', `${what} '${String(value)}' is not a duration like 30s, 15m, 1h, 7d`);
}

/** The shortest exact spelling of a duration, for messages and generated names. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = unitMs[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
