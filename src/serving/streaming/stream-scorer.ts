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
  /**
   * Deliveries of a record whose failures it did not cause (5xx, 408, 429) before it is given up:
   * its answer is then an error with the last failure, so one poisoned record cannot loop forever.
   */
  maxDeliveries?: number;
  /** First redelivery delay; each later one doubles (with jitter) up to 30 s. */
  retryBaseMs?: number;
  logger?: Logger;
}

export interface StreamScorerStats {
  scored: number;
  rejected: number;
  retried: number;
  duplicates: number;
  /** Records answered with an error after maxDeliveries failed attempts. */
  gaveUp: number;
}

const durationNanos = (ms: number) => ms * 1_000_000;
const duplicateWindowMs = 10 * 60_000;
const maxRetryDelayMs = 30_000;
const retryable = (e: unknown) => !(e instanceof AppError) || e.status >= 500 || e.status === 408 || e.status === 429;

/**
 * Streaming scoring over NATS JetStream: records `{id, record}` from a subject, predictions
 * `{id, …}` to another. At least once: a message is acknowledged only after its answer is stored
 * in the output stream; a failure the record did not cause is retried (nak). Idempotent by
 * record id: answers are published with the id as JetStream's message id, so a redelivered or
 * duplicated record never yields a second answer within the duplicate window. Retries back off
 * exponentially with jitter; after maxDeliveries the record is answered with its last error.
 */
export class StreamScorer {
  private nc: NatsConnection | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  readonly stats: StreamScorerStats = { scored: 0, rejected: 0, retried: 0, duplicates: 0, gaveUp: 0 };

  constructor(private readonly opts: StreamScorerOptions) {}

  async start(): Promise<void> {
    const o = this.opts;
    this.nc = await connect({ servers: o.natsUrl });
    const jsm = await jetstreamManager(this.nc);
    await jsm.streams.add({ name: o.inputStream, subjects: [o.inputSubject] }).catch(async () => jsm.streams.info(o.inputStream));
    const output = await jsm.streams
      .add({ name: o.outputStream, subjects: [o.outputSubject], duplicate_window: durationNanos(duplicateWindowMs) })
      .catch(async () => jsm.streams.info(o.outputStream));
    // An existing stream keeps its own window, and idempotency by record id lasts only that long.
    const windowMs = output.config.duplicate_window / 1_000_000;
    if (windowMs < duplicateWindowMs)
      o.logger?.warn(
        { stream: o.outputStream, duplicateWindowMs: windowMs },
        'stream scorer: the output stream forgets record ids sooner than 10 minutes; a record redelivered later is answered again',
      );
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
      const attempts = m.info.deliveryCount;
      if (retryable(e) && attempts < (o.maxDeliveries ?? 10)) {
        this.stats.retried += 1;
        const base = Math.min((o.retryBaseMs ?? 500) * 2 ** (attempts - 1), maxRetryDelayMs);
        m.nak(Math.round(base * (0.5 + Math.random() / 2)));
        return;
      }
      const err = e instanceof AppError ? e : new AppError('UNAVAILABLE', (e as Error).message);
      const gaveUp = retryable(e);
      await this.publish(js, id, {
        id,
        deployment: o.deployment,
        error: { code: err.code, message: err.message },
        ...(gaveUp ? { attempts } : {}),
      });
      if (gaveUp) this.stats.gaveUp += 1;
      else this.stats.rejected += 1;
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
