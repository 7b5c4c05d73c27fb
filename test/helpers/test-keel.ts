import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, silentLogger } from '../../src/core/index.ts';
import { createKeel, type Keel } from '../../src/main.ts';

export interface TestKeel extends Keel {
  url: string;
  dataDir: string;
  dispose(): Promise<void>;
}

/** A Keel server on a random port with its own data dir (SQLite unless `postgresUrl` is given). */
export async function startTestKeel(
  opts: { postgresUrl?: string; memory?: boolean; overrides?: Record<string, unknown> } = {},
): Promise<TestKeel> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keel-test-'));
  const config = loadConfig({
    env: {},
    file: '/dev/null',
    overrides: {
      dataDir,
      server: { port: 0 },
      log: { level: 'silent' },
      ...(opts.postgresUrl ? { storage: { driver: 'postgres', url: opts.postgresUrl } } : {}),
      ...opts.overrides,
    },
  });
  const keel = await createKeel(config, { logger: silentLogger, ...(opts.memory ? { memory: true } : {}) });
  await keel.app.listen({ host: '127.0.0.1', port: 0 });
  const address = keel.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    ...keel,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    async dispose() {
      await keel.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
