import { randomBytes } from 'node:crypto';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictScorer } from '../../src/cli/stream-command.ts';
import { KeelClient } from '../../src/client/index.ts';
import { AppError } from '../../src/core/index.ts';
import { StreamScorer, type StreamScorerOptions } from '../../src/serving/index.ts';
import { natsSkipReason, testNatsUrl } from '../helpers/nats.ts';
import { linearProbability, startLinearKeel } from '../helpers/serving-fixtures.ts';
import type { TestKeel } from '../helpers/test-keel.ts';

const skip = await natsSkipReason();

describe.skipIf(skip !== null)('streaming scoring over NATS JetStream', () => {
  let keel: TestKeel;
  let nc: NatsConnection;
  let predictor: KeelClient;
  const tag = randomBytes(4).toString('hex');
  const names = {
    in: `KEEL_TEST_IN_${tag}`,
    out: `KEEL_TEST_OUT_${tag}`,
    inSubject: `keel.test.${tag}.in`,
    outSubject: `keel.test.${tag}.out`,
  };

  beforeAll(async () => {
    let predictorKey: string;
    ({ keel, predictorKey } = await startLinearKeel());
    predictor = new KeelClient({ url: keel.url, apiKey: predictorKey });
    nc = await connect({ servers: testNatsUrl });
  });
  afterAll(async () => {
    const jsm = await jetstreamManager(nc);
    for (const s of [names.in, names.out]) await jsm.streams.delete(s).catch(() => undefined);
    await nc?.close();
    await keel?.dispose();
  });

  const scorer = (overrides: Partial<StreamScorerOptions> = {}) => {
    const opts: StreamScorerOptions = {
      natsUrl: testNatsUrl,
      inputStream: names.in,
      inputSubject: names.inSubject,
      outputStream: names.out,
      outputSubject: names.outSubject,
      consumer: 'scorer',
      deployment: 'lin',
      score: predictScorer(predictor, 'lin'),
      ...overrides,
    };
    return new StreamScorer(opts);
  };

  it('answers every record once, survives a restart mid-stream, and answers duplicates only once', async () => {
    const first = scorer();
    await first.start();
    const js = jetstream(nc);
    const publish = (id: string, record: unknown) => js.publish(names.inSubject, JSON.stringify({ id, record }));
    for (let i = 0; i < 60; i++) await publish(`r${i}`, { x: [i, 1] });
    // Stop mid-stream: what was not acknowledged is redelivered to the next scorer.
    while (first.stats.scored < 20) await new Promise((r) => setTimeout(r, 20));
    await first.stop();
    for (let i = 60; i < 100; i++) await publish(`r${i}`, { x: [i, 1] });
    await publish('r5', { x: [5, 1] }); // a duplicate of an answered record
    await publish('bad', { x: 'not numbers' });
    await js.publish(names.inSubject, 'not json');

    const second = scorer();
    await second.start();
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 500 && (await jsm.streams.info(names.out)).state.messages < 102; i++)
      await new Promise((r) => setTimeout(r, 50));
    await second.stop();

    const consumer = await js.consumers.get(names.out, { deliver_policy: DeliverPolicy.All });
    const answers: Record<string, unknown>[] = [];
    const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
    for await (const m of batch) answers.push(m.json());
    const scored = answers.filter((a) => typeof a.id === 'string' && !a.error);
    expect(scored.map((a) => a.id).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`).sort());
    for (const a of scored) {
      const i = Number(String(a.id).slice(1));
      expect(a.probability as number).toBeCloseTo(linearProbability([i, 1]), 6);
    }
    expect(answers.find((a) => a.id === 'bad')).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(answers.find((a) => a.id === null)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect(answers).toHaveLength(102);
  }, 60_000);

  it('backs off on failures the record did not cause, and answers a record that keeps failing with its error', async () => {
    const tag2 = randomBytes(4).toString('hex');
    const own = {
      in: `KEEL_TEST_IN2_${tag2}`,
      out: `KEEL_TEST_OUT2_${tag2}`,
      inSubject: `keel.test.${tag2}.in`,
      outSubject: `keel.test.${tag2}.out`,
    };
    const score = predictScorer(predictor, 'lin');
    const seen = new Map<string, number>();
    // 'flaky' fails twice then succeeds; 'poison' fails every time, as a record would that breaks a dependency.
    const s = scorer({
      inputStream: own.in,
      inputSubject: own.inSubject,
      outputStream: own.out,
      outputSubject: own.outSubject,
      maxDeliveries: 3,
      retryBaseMs: 20,
      score: async (record) => {
        const key = String(record.key);
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (key === 'poison' || (key === 'flaky' && (seen.get(key) ?? 0) <= 2))
          throw new AppError('UNAVAILABLE', `${key} failed`);
        return score({ x: record.x });
      },
    });
    const jsm = await jetstreamManager(nc);
    try {
      await s.start();
      const js = jetstream(nc);
      for (const key of ['ok', 'flaky', 'poison'])
        await js.publish(own.inSubject, JSON.stringify({ id: key, record: { key, x: [1, 2] } }));
      for (let i = 0; i < 400 && (await jsm.streams.info(own.out)).state.messages < 3; i++)
        await new Promise((r) => setTimeout(r, 50));
      await s.stop();
      const answers: Record<string, unknown>[] = [];
      const consumer = await js.consumers.get(own.out, { deliver_policy: DeliverPolicy.All });
      for await (const m of await consumer.fetch({ max_messages: 10, expires: 2000 })) answers.push(m.json());
      const byId = new Map(answers.map((a) => [a.id, a]));
      expect(answers).toHaveLength(3);
      expect(byId.get('ok')).toMatchObject({ probability: expect.any(Number) });
      expect(byId.get('flaky')).toMatchObject({ probability: expect.any(Number) });
      expect(byId.get('poison')).toMatchObject({ error: { code: 'UNAVAILABLE', message: 'poison failed' }, attempts: 3 });
      expect([seen.get('flaky'), seen.get('poison')]).toEqual([3, 3]);
      expect(s.stats).toMatchObject({ scored: 2, gaveUp: 1, retried: 4 });
    } finally {
      for (const name of [own.in, own.out]) await jsm.streams.delete(name).catch(() => undefined);
    }
  }, 60_000);
});
