import { AckPolicy, type Consumer, type JetStreamClient, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AppError, type Logger } from '../../core/index.ts';

export interface ScoredRecord {
  request_id: string;
  model: { name: string; version: number };
  prediction: unknown;
  probability: unknown;
  degraded: boolean;
}

export interface StreamScorerOptions {
  natsUrl: string;
  /** JetStream stream holding the input subject (created when missing). */
  inputStream: string;
  inputSubject: string;
  /** Stream holding the output subject (created when missing, with a duplicate window). */
  outputStream: string;
  outputSubject: string;
  /** Durable consumer name: a restarted scorer continues where the last one acknowledged. */
  consumer: string;
  deployment: string;
  /** Scores one record (the predict API); errors with a 4xx code are the record's fault. */
  score(record: Record<string, unknown>): Promise<ScoredRecord>;
  /** Messages scored at once (they join the gateway's batches). */
  concurrency?: number;
  logger?: Logger;
}

export interface StreamScorerStats {
  scored: number;
  rejected: number;
  retried: number;
  duplicates: number;
}

const durationNanos = (ms: number) => ms * 1_000_000;
const retryable = (e: unknown) => !(e instanceof AppError) || e.status >= 500 || e.status === 408 || e.status === 429;

/**
 * Streaming scoring over NATS JetStream: records `{id, record}` from a subject, predictions
 * `{id, …}` to another. At least once: a message is acknowledged only after its answer is stored
 * in the output stream; a failure the record did not cause is retried (nak). Idempotent by
 * record id: answers are published with the id as JetStream's message id, so a redelivered or
 * duplicated record never yields a second answer within the duplicate window.
 */
export class StreamScorer {
  private nc: NatsConnection | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  readonly stats: StreamScorerStats = { scored: 0, rejected: 0, retried: 0, duplicates: 0 };

  constructor(private readonly opts: StreamScorerOptions) {}

  async start(): Promise<void> {
    const o = this.opts;
    this.nc = await connect({ servers: o.natsUrl });
    const jsm = await jetstreamManager(this.nc);
    await jsm.streams.add({ name: o.inputStream, subjects: [o.inputSubject] }).catch(async () => jsm.streams.info(o.inputStream));
    await jsm.streams
      .add({ name: o.outputStream, subjects: [o.outputSubject], duplicate_window: durationNanos(10 * 60_000) })
      .catch(async () => jsm.streams.info(o.outputStream));
    await jsm.consumers
      .add(o.inputStream, {
        durable_name: o.consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: durationNanos(30_000),
        filter_subject: o.inputSubject,
      })
      .catch(async () => jsm.consumers.info(o.inputStream, o.consumer));
    const js = jetstream(this.nc);
    const consumer = await js.consumers.get(o.inputStream, o.consumer);
    this.stopping = false;
    this.loop = this.run(js, consumer);
  }

  /**
   * Pulls at most `concurrency` messages at a time and settles each batch before pulling again,
   * so a stop never strands messages in a client-side buffer until their ack wait runs out.
   */
  private async run(js: JetStreamClient, consumer: Consumer): Promise<void> {
    const limit = this.opts.concurrency ?? 32;
    while (!this.stopping) {
      const work: Promise<void>[] = [];
      try {
        const batch = await consumer.fetch({ max_messages: limit, expires: 1000 });
        for await (const m of batch) work.push(this.handle(js, m));
      } catch (e) {
        this.opts.logger?.warn({ err: e }, 'stream scorer: fetch failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
      await Promise.allSettled(work);
    }
  }

  private async handle(js: JetStreamClient, m: JsMsg): Promise<void> {
    const o = this.opts;
    let id: string;
    let record: Record<string, unknown>;
    try {
      const body = m.json<{ id?: unknown; record?: unknown }>();
      if (typeof body.id !== 'string' || !body.id || !body.record || typeof body.record !== 'object') throw new Error('shape');
      id = body.id;
      record = body.record as Record<string, unknown>;
    } catch {
      // Not a record at all: say so on the output subject (keyed by stream sequence) and drop it.
      await this.publish(js, `seq:${m.seq}`, {
        id: null,
        seq: m.seq,
        error: { code: 'VALIDATION_FAILED', message: 'message must be JSON {id: string, record: object}' },
      });
      this.stats.rejected += 1;
      m.term('malformed');
      return;
    }
    try {
      const scored = await o.score(record);
      await this.publish(js, id, { id, deployment: o.deployment, ...scored });
      this.stats.scored += 1;
      await m.ackAck();
    } catch (e) {
      if (retryable(e)) {
        this.stats.retried += 1;
        m.nak(1000);
        return;
      }
      const err = e as AppError;
      await this.publish(js, id, { id, deployment: o.deployment, error: { code: err.code, message: err.message } });
      this.stats.rejected += 1;
      await m.ackAck();
    }
  }

  private async publish(js: JetStreamClient, id: string, body: Record<string, unknown>): Promise<void> {
    const ack = await js.publish(this.opts.outputSubject, JSON.stringify(body), { msgID: `${this.opts.deployment}:${id}` });
    if (ack.duplicate) this.stats.duplicates += 1;
  }

  /** Stops pulling, finishes the messages in hand, and closes the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.nc?.drain();
    this.nc = null;
  }
}
