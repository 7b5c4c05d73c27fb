import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppError, CancelSignal } from '../../core/index.ts';
import { cancelOnClose } from './client-gone.ts';

/** A server whose handler gets the response and its signal and answers when the test says. */
async function serve(onRequest: (res: ServerResponse, signal: CancelSignal) => void) {
  const server = createServer((_req, res) => onRequest(res, cancelOnClose(res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, port };
}

function send(port: number) {
  const req = request({ port, host: '127.0.0.1', method: 'GET', path: '/' });
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  req.end();
  return { req, answered };
}

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('cancelOnClose', () => {
  it('stays quiet for an answered request and adds no listener unless work waits on it', async () => {
    let seen: { signal: CancelSignal; res: ServerResponse } | undefined;
    const { server, port } = await serve((res, signal) => {
      seen = { signal, res };
      expect(res.listenerCount('close')).toBe(0);
      res.end('ok');
    });
    servers.push(server);
    expect(await send(port).answered).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(seen?.signal.aborted).toBe(false);
    expect(seen?.signal.reason).toBeUndefined();
  });

  it('tells waiting work when the client leaves, with CLIENT_CLOSED', async () => {
    let fire: () => void = () => undefined;
    const fired = new Promise<void>((resolve) => {
      fire = resolve;
    });
    let signal: CancelSignal | undefined;
    let listenersAfterSubscribe = 0;
    const { server, port } = await serve((res, s) => {
      signal = s;
      s.addEventListener('abort', fire);
      listenersAfterSubscribe = res.listenerCount('close');
      // Hang up once the server holds the request, before it answers.
      setImmediate(() => req.destroy());
    });
    servers.push(server);
    const { req, answered } = send(port);
    answered.catch(() => undefined);
    await fired;
    expect(listenersAfterSubscribe).toBe(1);
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as AppError | undefined)?.code).toBe('CLIENT_CLOSED');
    // A listener added once the client has left is not called, as with an AbortSignal.
    let late = false;
    signal?.addEventListener('abort', () => {
      late = true;
    });
    expect(late).toBe(false);
  });

  it('reports a client that left during work that never subscribed (a run started at once)', async () => {
    let arrive: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    let seen: { signal: CancelSignal; res: ServerResponse } | undefined;
    const { server, port } = await serve((res, signal) => {
      seen = { signal, res };
      arrive();
    });
    servers.push(server);
    const { req, answered } = send(port);
    answered.catch(() => undefined);
    await arrived;
    const { signal, res } = seen as { signal: CancelSignal; res: ServerResponse };
    expect(signal.aborted).toBe(false);
    req.destroy();
    await new Promise<void>((resolve) => (res.destroyed ? resolve() : res.once('close', () => resolve())));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as AppError).code).toBe('CLIENT_CLOSED');
    // The same error each time it is read, as an aborted signal's reason is.
    expect(signal.reason).toBe(signal.reason);
  });
});
