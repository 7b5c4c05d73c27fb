import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Cleanup } from './cleanup.ts';

/** Creates a throwaway database `keel_bench_<random>` next to `adminUrl`; dropped on cleanup. */
export async function createBenchDatabase(adminUrl: string, cleanup: Cleanup): Promise<string> {
  const name = `keel_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  cleanup.add(`drop database ${name}`, async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      // FORCE ends sessions a killed server may have left behind.
      await c.query(`drop database if exists ${name} with (force)`);
    } finally {
      await c.end();
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
