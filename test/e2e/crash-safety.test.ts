import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeelClient } from '../../src/client/index.ts';
import { type KeelProcess, spawnKeel } from '../helpers/server-process.ts';

const chunkSize = 64 * 1024;

/** Deterministic content per upload so a downloaded artifact can be checked byte for byte. */
function chunkOf(seed: number, i: number): Buffer {
  const b = Buffer.alloc(chunkSize);
  for (let j = 0; j < chunkSize; j += 4) b.writeUInt32LE((seed * 2654435761 + i * 40503 + j) >>> 0, j);
  return b;
}

function expectedDigest(seed: number, chunks: number): string {
  const h = createHash('sha256');
  for (let i = 0; i < chunks; i++) h.update(chunkOf(seed, i));
  return `sha256:${h.digest('hex')}`;
}

async function* slowBody(seed: number, chunks: number, delayMs: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < chunks; i++) {
    yield chunkOf(seed, i);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  }
}

async function upload(url: string, key: string, runId: string, path: string, seed: number, chunks: number, delayMs: number) {
  const res = await fetch(`${url}/api/v1/runs/${runId}/artifacts/${path}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    body: slowBody(seed, chunks, delayMs),
    duplex: 'half',
  } as unknown as RequestInit);
  if (res.status !== 201) throw new Error(`upload ${path}: ${res.status}`);
  return { path, seed, chunks };
}

describe('crash safety: SIGKILL during uploads and metric logging', () => {
  let dataDir = '';
  let server: KeelProcess | null = null;
  afterAll(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('loses no acknowledged metric and exposes no partial artifact', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keel-crash-'));
    server = await spawnKeel(dataDir);
    const client = new KeelClient({ url: server.url, apiKey: server.adminKey });
    const run = await client.startRun({ experiment: 'crash', codeVersion: null });

    // Completed uploads before the crash: these must survive intact.
    const done = [await upload(server.url, server.adminKey, run.id, 'done/a.bin', 1, 8, 0)];
    done.push(await upload(server.url, server.adminKey, run.id, 'done/b.bin', 2, 16, 0));

    const ackedSteps: number[] = [];
    let stop = false;
    const logger = (async () => {
      for (let batch = 0; !stop; batch++) {
        const metrics = Array.from({ length: 200 }, (_, i) => ({ key: 'loss', value: batch + i / 1000, step: batch * 200 + i }));
        try {
          const res = await fetch(`${server?.url}/api/v1/runs/${run.id}/log`, {
            method: 'POST',
            headers: { authorization: `Bearer ${server?.adminKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ metrics }),
          });
          if (res.status === 204) ackedSteps.push(...metrics.map((m) => m.step));
        } catch {
          return; // the server died mid-request: this batch was never acknowledged
        }
      }
    })();
    // Uploads far too long to finish (~6 GB at 10 ms a chunk): they are always mid-stream when the process dies.
    const inflight = [3, 4, 5].map((seed) =>
      upload(server?.url ?? '', server?.adminKey ?? '', run.id, `partial/${seed}.bin`, seed, 100_000, 10).catch(() => null),
    );
    while (ackedSteps.length < 20 * 200) await new Promise((r) => setTimeout(r, 20));
    await server.kill();
    stop = true;
    await logger;
    expect((await Promise.all(inflight)).filter((u) => u !== null)).toEqual([]);

    server = await spawnKeel(dataDir);
    const after = new KeelClient({ url: server.url, apiKey: server.adminKey });
    const history = await after.http.json<{ metrics: { step: number }[] }>('GET', `api/v1/runs/${run.id}/metrics/loss`, {
      query: { limit: 25000 },
    });
    const stored = new Set(history.metrics.map((m) => m.step));
    const missing = ackedSteps.filter((s) => !stored.has(s));
    expect(ackedSteps.length).toBeGreaterThanOrEqual(4000);
    expect(missing).toEqual([]);

    const listed = (
      await after.http.json<{ artifacts: { path: string; digest: string; size: number }[] }>(
        'GET',
        `api/v1/runs/${run.id}/artifacts`,
      )
    ).artifacts;
    const byPath = new Map(listed.map((a) => [a.path, a]));
    expect(listed.map((a) => a.path).sort()).toEqual(['done/a.bin', 'done/b.bin']);
    for (const u of done) {
      expect(byPath.get(u.path)?.digest).toBe(expectedDigest(u.seed, u.chunks));
    }
    // What is listed is complete, down to the bytes served.
    for (const a of listed) {
      const res = await after.http.request('GET', `api/v1/runs/${run.id}/artifacts/${a.path}`);
      const body = Buffer.from(await res.arrayBuffer());
      expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(a.digest);
    }
    // Half-written uploads are gone from the store's temp area, and every stored blob matches its name.
    expect(await readdir(join(dataDir, 'blobs', 'tmp'))).toEqual([]);
    for (const prefix of await readdir(join(dataDir, 'blobs', 'sha256'))) {
      for (const name of await readdir(join(dataDir, 'blobs', 'sha256', prefix))) {
        const bytes = await readFile(join(dataDir, 'blobs', 'sha256', prefix, name));
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(name);
      }
    }
  });
});
