import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, pretty = false): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['req.headers.authorization', '*.key', '*.secret'], censor: '[redacted]' },
    ...(pretty ? {} : {}),
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
