import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestKeel } from '../helpers/test-keel.ts';

describe('graceful shutdown', () => {
  it('is not held open by a connection that never sent a request (Node would keep it until headersTimeout, 60 s)', async () => {
    const keel = await startTestKeel();
    const { port } = new URL(keel.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const closedByServer = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
    // A keep-alive connection that did serve a request is closed too, once idle.
    expect((await fetch(`${keel.url}/healthz`)).status).toBe(200);
    await keel.dispose();
    expect(await closedByServer).toBe(true);
  }, 30_000);
});

describe('graceful shutdown, requests that still arrive', () => {
  it.each([
    ['/healthz', '"code":"UNAVAILABLE"'],
    // /v2 answers in the OIP's error shape, with the same status and headers.
    ['/v2/health/live', '{"error":"the server is shutting down'],
  ])(
    'answers a request for %s reaching a closing server 503 with Retry-After, after the in-flight one finishes',
    async (path, body503) => {
      const keel = await startTestKeel();
      const { port } = new URL(keel.url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
      });
      const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      // A request whose body is still arriving keeps the server busy while it starts closing.
      const body = '{"name":"x"}';
      socket.write(
        `POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n{`,
      );
      await new Promise((r) => setTimeout(r, 100));
      const disposed = keel.dispose();
      await new Promise((r) => setTimeout(r, 100));
      // The rest of the first body, and a second request pipelined behind it on the same connection.
      socket.write(`${body.slice(1)}GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await ended;
      await disposed;
      const responses = received.split(/(?=HTTP\/1\.1 )/);
      expect(responses).toHaveLength(2);
      expect(responses[0]).toMatch(/^HTTP\/1\.1 401/); // the in-flight request was served (no key: 401)
      expect(responses[1]).toMatch(/^HTTP\/1\.1 503/);
      expect(responses[1]).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(responses[1]).toMatch(/\r\nconnection: close\r\n/i);
      expect(responses[1]).toContain(body503);
    },
    30_000,
  );
});
