import type { Command } from 'commander';
import { KeelApiError, type KeelClient } from '../client/index.ts';
import { AppError, type ErrorCode, errorRegistry } from '../core/index.ts';
import { type ScoredRecord, StreamScorer } from '../serving/index.ts';
import { clientOf } from './context.ts';

/** Scores one record through a deployment's predict API; API errors keep their code, so 4xx are the record's fault. */
export function predictScorer(client: KeelClient, deployment: string) {
  return async (record: Record<string, unknown>): Promise<ScoredRecord> => {
    try {
      const res = await client.predict(deployment, record);
      return {
        request_id: res.request_id,
        model: res.model,
        prediction: res.predictions[0],
        probability: res.probabilities?.[0] ?? null,
        degraded: res.degraded,
      };
    } catch (e) {
      if (e instanceof KeelApiError && e.code in errorRegistry) throw new AppError(e.code as ErrorCode, e.message);
      throw e;
    }
  };
}

/** `keel stream`: a long-running streaming scorer between two JetStream subjects. */
export function registerStreamCommand(program: Command): void {
  program
    .command('stream')
    .description(
      'streaming scoring: records {id, record} from a NATS JetStream subject, predictions to another (at least once, idempotent by id)',
    )
    .requiredOption('--deployment <name>', 'the deployment')
    .requiredOption('--input <subject>', 'subject records arrive on')
    .requiredOption('--output <subject>', 'subject predictions go to')
    .option('--nats <url>', 'NATS server', 'nats://127.0.0.1:4222')
    .option('--input-stream <name>', 'JetStream stream of the input subject (created when missing)', 'KEEL_SCORE_IN')
    .option('--output-stream <name>', 'JetStream stream of the output subject (created when missing)', 'KEEL_SCORE_OUT')
    .option('--consumer <name>', 'durable consumer: a restart continues where the last run acknowledged', 'keel-scorer')
    .option('--concurrency <n>', 'records scored at once', '32')
    .option(
      '--max-deliveries <n>',
      'attempts at a record failing for reasons it did not cause, before it is answered with the error',
      '10',
    )
    .action(
      async (
        opts: {
          deployment: string;
          input: string;
          output: string;
          nats: string;
          inputStream: string;
          outputStream: string;
          consumer: string;
          concurrency: string;
          maxDeliveries: string;
        },
        cmd: Command,
      ) => {
        const scorer = new StreamScorer({
          natsUrl: opts.nats,
          inputStream: opts.inputStream,
          inputSubject: opts.input,
          outputStream: opts.outputStream,
          outputSubject: opts.output,
          consumer: opts.consumer,
          deployment: opts.deployment,
          concurrency: Number(opts.concurrency),
          maxDeliveries: Number(opts.maxDeliveries),
          score: predictScorer(clientOf(cmd), opts.deployment),
        });
        await scorer.start();
        process.stderr.write(`scoring ${opts.input} → ${opts.output} with deployment '${opts.deployment}' (Ctrl-C to stop)\n`);
        const report = setInterval(() => {
          const s = scorer.stats;
          process.stderr.write(
            `  scored ${s.scored} · rejected ${s.rejected} · retried ${s.retried} · gave up ${s.gaveUp} · duplicates ${s.duplicates}\n`,
          );
        }, 10_000);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        clearInterval(report);
        await scorer.stop();
      },
    );
}
