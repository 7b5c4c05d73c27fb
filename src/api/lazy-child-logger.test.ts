import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger, withLazyChildren } from './lazy-child-logger.ts';

describe('lazyChildLogger', () => {
  /** A pino logger writing JSON lines to `lines`, counting the children it makes. */
  function countingLogger() {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const parent = pino({ level: 'info' }, sink) as unknown as FastifyBaseLogger;
    const made = { children: 0 };
    const child = parent.child.bind(parent);
    parent.child = ((b: Record<string, unknown>, o?: object) => {
      made.children++;
      return child(b, o);
    }) as FastifyBaseLogger['child'];
    return { parent, made, logged: () => lines.map((l) => JSON.parse(l)) };
  }

  it('makes the child on the first line logged, with its bindings, and never for a request that logs nothing', () => {
    const { parent, made, logged } = countingLogger();

    const quiet = lazyChildLogger(parent, { reqId: 'req-1' });
    expect(quiet.level).toBe('info');
    expect(made.children).toBe(0);

    const noisy = lazyChildLogger(parent, { reqId: 'req-2' });
    noisy.error({ code: 'X' }, 'failed');
    noisy.warn('again');
    expect(made.children).toBe(1);
    expect(logged()).toMatchObject([
      { reqId: 'req-2', code: 'X', msg: 'failed', level: 50 },
      { reqId: 'req-2', msg: 'again', level: 40 },
    ]);
  });

  it('gives Fastify lazy request loggers through the logger instance: a request that logs nothing makes no child', async () => {
    const { parent, made, logged } = countingLogger();
    const app = Fastify({
      loggerInstance: withLazyChildren(parent),
      disableRequestLogging: true,
      requestIdHeader: 'x-request-id',
    });
    app.get('/quiet', async () => ({ ok: true }));
    app.get('/noisy', async (req) => {
      req.log.warn({ code: 'Y' }, 'noted');
      return { ok: true };
    });
    await app.ready();
    expect(made.children).toBe(0);
    app.log.info('up'); // makes Fastify's own root logger, once
    expect(made.children).toBe(1);
    expect((await app.inject('/quiet')).statusCode).toBe(200);
    expect(made.children).toBe(1);
    expect((await app.inject({ url: '/noisy', headers: { 'x-request-id': 'r-9' } })).statusCode).toBe(200);
    expect(made.children).toBe(2);
    expect(logged()).toMatchObject([
      { msg: 'up', level: 30 },
      { reqId: 'r-9', code: 'Y', msg: 'noted', level: 40 },
    ]);
    expect(logged()[0]).not.toHaveProperty('reqId');
    await app.close();
  });
});
