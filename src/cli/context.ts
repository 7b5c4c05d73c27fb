import type { Command } from 'commander';
import { KeelClient } from '../client/index.ts';
import { AppError } from '../core/index.ts';

/** Options defined on the program; commander accepts them before or after the subcommand. */
export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  project?: string;
  json?: boolean;
}

export const globalsOf = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();

export const wantsJson = (cmd: Command): boolean => globalsOf(cmd).json === true;

/** The SDK client every command talks through; flags win over KEEL_URL / KEEL_API_KEY. */
export function clientOf(cmd: Command): KeelClient {
  const g = globalsOf(cmd);
  try {
    return new KeelClient({
      ...(g.url !== undefined ? { url: g.url } : {}),
      ...(g.apiKey !== undefined ? { apiKey: g.apiKey } : {}),
      ...(g.project !== undefined ? { project: g.project } : {}),
    });
  } catch {
    // loadClientConfig only fails on the URL; say which one so it can be fixed.
    throw new AppError('CONFIG_INVALID', `the server URL (--url or KEEL_URL) is not a valid URL: '${g.url ?? ''}'`);
  }
}

/** Bad command-line input found after commander's own checks; exits 2 like commander's errors. */
export const usageError = (message: string): AppError => new AppError('BAD_REQUEST', message);
