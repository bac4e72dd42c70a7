import { startMetricsServer, type MetricsServer, type Telemetry } from "@caravan/telemetry";
import type { Logger } from "pino";

/**
 * The worker's /metrics on CARAVAN_METRICS_PORT (0 = none). A port already taken (several
 * workers on one machine) costs the metrics endpoint, not the worker: it is logged and skipped.
 */
export async function serveWorkerMetrics(telemetry: Telemetry, port: number, log: Logger): Promise<MetricsServer | undefined> {
  if (port === 0) return undefined;
  try {
    const server = await startMetricsServer(telemetry, { port });
    log.info({ url: `http://0.0.0.0:${server.port}/metrics` }, "metrics listening");
    return server;
  } catch (error) {
    log.warn({ err: error, port }, "cannot serve /metrics on CARAVAN_METRICS_PORT; running without it");
    return undefined;
  }
}
