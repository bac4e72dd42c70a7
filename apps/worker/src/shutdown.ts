import type { Logger } from "pino";

/**
 * On SIGINT/SIGTERM, runs `close` once (draining running work) and exits. A second signal
 * exits at once, for an operator who does not want to wait.
 */
export function onShutdown(log: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting without draining");
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, "shutting down: draining running requests");
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
