/**
 * Undo steps for a benchmark (stop the server, drop the database, remove temp dirs), run in
 * reverse order on success, failure or Ctrl-C, so a run never leaves processes or data behind.
 */
export class Cleanup {
  private readonly steps: { label: string; fn: () => Promise<void> | void }[] = [];
  private running: Promise<void> | null = null;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: cleaning up…\n`);
    void this.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };

  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  add(label: string, fn: () => Promise<void> | void): void {
    this.steps.push({ label, fn });
  }

  /** Runs every step once, newest first; a failing step is reported and the rest still run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
      for (const step of this.steps.reverse()) {
        try {
          await step.fn();
        } catch (e) {
          process.stderr.write(`cleanup '${step.label}' failed: ${(e as Error).message}\n`);
        }
      }
    })();
    return this.running;
  }
}
