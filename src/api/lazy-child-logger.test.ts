import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger } from './lazy-child-logger.ts';

describe('lazyChildLogger', () => {
  it('makes the child on the first line logged, with its bindings, and never for a request that logs nothing', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const parent = pino({ level: 'info' }, sink) as unknown as FastifyBaseLogger;
    let children = 0;
    const child = parent.child.bind(parent);
    parent.child = ((b: Record<string, unknown>, o?: object) => {
      children++;
      return child(b, o);
    }) as FastifyBaseLogger['child'];

    const quiet = lazyChildLogger(parent, { reqId: 'req-1' });
    expect(quiet.level).toBe('info');
    expect(children).toBe(0);

    const noisy = lazyChildLogger(parent, { reqId: 'req-2' });
    noisy.error({ code: 'X' }, 'failed');
    noisy.warn('again');
    expect(children).toBe(1);
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      { reqId: 'req-2', code: 'X', msg: 'failed', level: 50 },
      { reqId: 'req-2', msg: 'again', level: 40 },
    ]);
  });
});
