import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeelClient } from '../../src/client/index.ts';
import { type KeelProcess, spawnKeel } from '../helpers/server-process.ts';
import { deployLinearModel, linearProbability, postPredict, startLinearKeel } from '../helpers/serving-fixtures.ts';
import { createTestPostgresDatabase, postgresSkipReason } from '../helpers/sql-backends.ts';
import type { TestKeel } from '../helpers/test-keel.ts';

const skip = await postgresSkipReason();

/** A TCP proxy to Postgres that the test can cut, as a network partition would. */
async function cuttableProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

describe.skipIf(skip !== null)('serving while the metadata database is unreachable', () => {
  let keel: TestKeel;
  let db: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
  let predictorKey: string;

  beforeAll(async () => {
    db = await createTestPostgresDatabase();
    proxy = await cuttableProxy(db.port);
    const url = new URL(db.url);
    url.port = String(proxy.port);
    ({ keel, predictorKey } = await startLinearKeel({ postgresUrl: url.toString() }));
  }, 60_000);
  afterAll(async () => {
    await keel?.dispose();
    await db?.drop();
  });

  const predict = async (x: [number, number]) => {
    const res = await postPredict(keel.url, predictorKey, 'lin', { record: { x } });
    return { status: res.status, body: (await res.json()) as { probabilities?: number[] } };
  };

  const oip = (path: string, body: unknown) =>
    fetch(`${keel.url}/v2${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${predictorKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const infer = () => oip('/models/lin/infer', { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] });
  const index = async () => {
    const res = await oip('/repository/index', {});
    return { status: res.status, names: res.status === 200 ? ((await res.json()) as { name: string }[]).map((e) => e.name) : [] };
  };

  it('keeps answering predictions from memory, past every cache expiry', async () => {
    expect((await predict([1, 2])).status).toBe(200);
    expect((await infer()).status).toBe(200);
    expect(await index()).toEqual({ status: 200, names: ['lin'] });
    await proxy.cut();
    expect((await fetch(`${keel.url}/readyz`)).status).toBe(503);
    // Longer than the key cache (5 s) and several route refreshes (2 s): every one must still succeed.
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const x: [number, number] = [i, -i];
      const res = await predict(x);
      statuses.push(res.status);
      if (res.status === 200) expect(res.body.probabilities?.[0]).toBeCloseTo(linearProbability(x), 6);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(statuses).toEqual(statuses.map(() => 200));
    // /v2 too: infer, and the repository index from the last listing.
    expect((await infer()).status).toBe(200);
    expect(await index()).toEqual({ status: 200, names: ['lin'] });
  }, 60_000);
});

/**
 * A TCP proxy to Postgres that can turn into a black hole, as a network split does: connections
 * stay open and new ones are accepted, but no byte crosses either way, so nothing fails fast.
 */
async function blackHoleProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let holed = false;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    track(client);
    if (holed) return;
    const upstream = net.connect(targetPort, '127.0.0.1');
    track(upstream);
    client.on('data', (d) => void (holed || upstream.write(d)));
    upstream.on('data', (d) => void (holed || client.write(d)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    swallow: () => {
      holed = true;
    },
    /** Closes everything, so the server's pool can end (a black-holed client would wait forever for its goodbye). */
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe.skipIf(skip !== null)('serving while the metadata database silently drops every packet', () => {
  let keel: TestKeel;
  let db: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let proxy: Awaited<ReturnType<typeof blackHoleProxy>>;
  let predictorKey: string;
  let unusedKey: string;

  beforeAll(async () => {
    db = await createTestPostgresDatabase();
    proxy = await blackHoleProxy(db.port);
    const url = new URL(db.url);
    url.port = String(proxy.port);
    let admin: KeelClient;
    ({ keel, admin, predictorKey } = await startLinearKeel({ postgresUrl: url.toString() }));
    unusedKey = (await admin.createKey({ role: 'predictor', name: 'never-presented' })).key;
    // Open several pool connections, so the refreshes after the split land on established
    // connections (which never answer) rather than on new ones (which time out connecting).
    await Promise.all(Array.from({ length: 10 }, () => admin.listKeys()));
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await keel?.dispose();
    await db?.drop();
  });

  /** Status of one call, or 'hung' when the generous client deadline passes first (a hang, not slowness). */
  const call = async (path: string, key: string, body: unknown): Promise<number | 'hung'> => {
    try {
      const res = await fetch(`${keel.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      await res.arrayBuffer();
      return res.status;
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') return 'hung';
      throw e;
    }
  };
  const predict = (key = predictorKey) => call('/v1/deployments/lin/predict', key, { record: { x: [1, 2] } });
  const infer = () =>
    call('/v2/models/lin/infer', predictorKey, { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });

  it('keeps answering predict and OIP infer from memory past every cache expiry, and never hangs', async () => {
    expect([await predict(), await infer()]).toEqual([200, 200]);
    proxy.swallow();
    // A key the gateway never saw can only be checked by the database: a 503 once its query times out.
    const unseen = predict(unusedKey);
    // Past the key cache (5 s) and several model-resolution and route refreshes (2 s).
    const statuses: (number | 'hung')[] = [];
    const until = Date.now() + 8_000;
    while (Date.now() < until) {
      const answers = await Promise.all([predict(), infer()]);
      statuses.push(...answers);
      if (answers.some((s) => s !== 200)) break;
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(statuses).toEqual(statuses.map(() => 200));
    expect(await unseen).toBe(503);
  }, 90_000);
});

describe('a gateway SIGKILLed under load', () => {
  let dataDir: string;
  let server: KeelProcess | null = null;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keel-kill-serving-'));
  });
  afterAll(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('has every prediction that got a 200 in its inference log after a restart', async () => {
    server = await spawnKeel(dataDir);
    const { predictorKey } = await deployLinearModel(new KeelClient({ url: server.url, apiKey: server.adminKey }));
    const acknowledged: string[] = [];
    let stop = false;
    const url = server.url;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await postPredict(url, predictorKey, 'lin', { record: { x: [w, i] } });
          if (res.status === 200) acknowledged.push(((await res.json()) as { request_id: string }).request_id);
        } catch {
          return; // the server died mid-request: that request was never acknowledged
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 20));
    await server.kill();
    stop = true;
    await Promise.all(workers);

    server = await spawnKeel(dataDir);
    const admin = new KeelClient({ url: server.url, apiKey: server.adminKey });
    const logged = await admin.queryInferenceLog('SELECT request_id FROM inference_log', 100_000);
    const ids = new Set(logged.rows.map((r) => r.request_id as string));
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
  }, 120_000);
});

describe('a gateway stopped with SIGTERM under load', () => {
  let dataDir: string;
  let server: KeelProcess | null = null;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keel-term-serving-'));
  });
  afterAll(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers the requests it accepted and flushes their log records before exiting', async () => {
    server = await spawnKeel(dataDir);
    const { predictorKey } = await deployLinearModel(new KeelClient({ url: server.url, apiKey: server.adminKey }));
    const url = server.url;
    const acknowledged: string[] = [];
    const failures: number[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        let res: Response;
        try {
          res = await postPredict(url, predictorKey, 'lin', { record: { x: [w, i] } });
        } catch {
          return; // refused after the listener closed: never accepted
        }
        if (res.status === 200) acknowledged.push(((await res.json()) as { request_id: string }).request_id);
        else failures.push(res.status);
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    while (acknowledged.length < 100) await new Promise((r) => setTimeout(r, 20));
    // SIGTERM with requests in flight; the clients then stop sending, as a load balancer would.
    const stopping = server.stop();
    stop = true;
    await Promise.all(workers);
    await stopping;
    expect(server.child.exitCode).toBe(0);
    // In-flight requests were answered; one arriving after the close began may be told 503, never cut off.
    expect(failures.filter((s) => s !== 503)).toEqual([]);

    server = await spawnKeel(dataDir);
    const admin = new KeelClient({ url: server.url, apiKey: server.adminKey });
    const logged = await admin.queryInferenceLog('SELECT request_id FROM inference_log', 100_000);
    const ids = new Set(logged.rows.map((r) => r.request_id as string));
    expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
  }, 120_000);
});
