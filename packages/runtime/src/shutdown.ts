import type { Logger } from "pino";

/**
 * On SIGINT/SIGTERM, runs `close` once (draining running work) and exits. A second signal
 * exits at once, for an operator who does not want to wait. With CARAVAN_STOP_WITH_PARENT=1 (set
 * by `caravan cluster`, which gives its children a stdin pipe), the end of stdin — the parent
 * died, even by SIGKILL — drains and exits too, so no process outlives its cluster.
 */
export function onShutdown(log: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals | "parent exited") => {
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
  if (process.env.CARAVAN_STOP_WITH_PARENT === "1") {
    process.stdin.once("end", () => !stopping && stop("parent exited"));
    process.stdin.resume();
  }
}
