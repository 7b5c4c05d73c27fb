export * from './clock.ts';
export * from './config.ts';
export * from './durations.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './logger.ts';
export * from './pagination.ts';
export * from './ports.ts';
