import { connect } from '@nats-io/transport-node';
import { testServiceEnv } from '../../src/core/index.ts';

const env = testServiceEnv();
export const testNatsUrl = env.natsUrl;

let probe: Promise<string | null> | undefined;
const natsProblem = () => {
  probe ??= connect({ servers: env.natsUrl, timeout: 2000 }).then(
    async (nc) => {
      await nc.close();
      return null;
    },
    (e: Error) => `NATS at ${env.natsUrl} is unreachable (${e.message})`,
  );
  return probe;
};

/**
 * Whether NATS suites run here: null to run them, or the reason they are skipped. On CI an
 * unreachable NATS is not a skip: the suites run and fail.
 */
export async function natsSkipReason(): Promise<string | null> {
  const problem = await natsProblem();
  if (!problem || env.ci) return null;
  return `${problem}; skipping NATS suites (start nats-server -js or set KEEL_TEST_NATS_URL, or CI=true to make this fail)`;
}
