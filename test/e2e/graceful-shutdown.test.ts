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
