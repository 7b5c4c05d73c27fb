import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { loadConfig } from '../core/index.ts';

/** `keel serve`: the platform with embedded storage, in the foreground. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the Keel server (embedded SQLite storage unless configured otherwise)')
    .option('-p, --port <port>', 'port to listen on (env KEEL_PORT, default 7878)')
    .option('--host <host>', 'address to bind (env KEEL_HOST, default 127.0.0.1)')
    .option('-d, --data-dir <dir>', 'where data lives (env KEEL_DATA_DIR, default ./.keel)')
    .option('-c, --config <file>', 'YAML config file (default ./keel.yaml when present)')
    .option('--storage-url <url>', 'use Postgres at this URL for metadata')
    .option('--demo', 'also set up the flights demo (feature store on the real flights data) in its own project')
    .action(
      async (opts: { port?: string; host?: string; dataDir?: string; config?: string; storageUrl?: string; demo?: boolean }) => {
        // V8 moves objects from allocation sites whose objects often survived a young collection
        // straight to the old generation. Under serving load it made that call for the request path
        // itself (the batcher's queue entries, decoded tensors), so every request's short-lived
        // objects landed in the old generation, and the references from them kept young objects
        // alive: young collections took 5.5 ms instead of 0.85 ms at one client on the flights
        // model (docs/adr/0005). Set before the server code runs, so no site was judged yet. An
        // explicit --allocation-site-pretenuring on node's command line (to compare) wins.
        if (!process.execArgv.includes('--allocation-site-pretenuring')) setFlagsFromString('--no-allocation-site-pretenuring');
        const overrides: Record<string, unknown> = {};
        const server: Record<string, unknown> = {};
        if (opts.port !== undefined) server.port = opts.port;
        if (opts.host !== undefined) server.host = opts.host;
        if (Object.keys(server).length) overrides.server = server;
        if (opts.dataDir !== undefined) overrides.dataDir = opts.dataDir;
        if (opts.storageUrl !== undefined) overrides.storage = { driver: 'postgres', url: opts.storageUrl };
        const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), overrides });
        // Loaded here, not at the top: the server stack is heavy and every other command would pay for it at startup.
        const { createKeel } = await import('../main.ts');
        const keel = await createKeel(config);
        const address = await keel.app.listen({ host: config.server.host, port: config.server.port });
        const url = address.replace('[::1]', 'localhost');
        const lines = [
          '',
          `  Keel is running at ${url}`,
          `  storage: ${config.storage.driver}${config.storage.driver === 'sqlite' ? ` (data dir ${config.dataDir})` : ''}`,
          `  API docs (OpenAPI): ${url}/api/openapi.json   health: ${url}/healthz   metrics: ${url}/metrics`,
          keel.adminKeyPath
            ? `  an admin API key was created and written to ${keel.adminKeyPath} (shown only there)`
            : `  admin key: see ${config.dataDir}/admin.key (created on first start)`,
          `  try:  export KEEL_URL=${url} KEEL_API_KEY=$(cat ${keel.adminKeyPath ?? `${config.dataDir}/admin.key`})`,
          '        alias keel="npm run -s keel --"; keel models list',
        ];
        if (opts.demo) {
          const { startFlightsDemo } = await import('../demo.ts');
          lines.push(
            ...(await startFlightsDemo(keel).catch((e: unknown) => [`  demo: could not start (${(e as Error).message})`])),
          );
        }
        lines.push('');
        process.stderr.write(`${lines.join('\n')}\n`);
        const stop = async () => {
          await keel.close();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );
}
