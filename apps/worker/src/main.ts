import { ConfigError } from "@caravan/protocol";
import { startTelemetry } from "@caravan/telemetry";
import { closeAll, createLogger, onShutdown } from "@caravan/runtime";
import { RedisWorkerTransport } from "@caravan/transport";
import { loadWorkerConfig } from "./config.ts";
import { startWorker } from "./worker.ts";
import { serveWorkerMetrics } from "./telemetry/metrics-port.ts";

/** `pnpm start:worker`: a worker process that takes jobs from Redis. */
const log = createLogger("caravan-worker");
try {
  const config = loadWorkerConfig();
  if (!config.redisUrl) throw new ConfigError("invalid configuration: REDIS_URL: required for a separate worker process (use `pnpm start` for one process without Redis)");
  const telemetry = startTelemetry({ serviceName: "caravan-worker" });
  const transport = new RedisWorkerTransport({ url: config.redisUrl, prefix: config.redisPrefix, workerId: config.workerId });
  const worker = await startWorker(config, transport, log, telemetry);
  const metrics = await serveWorkerMetrics(telemetry, config.metricsPort, log);
  onShutdown(log, () => closeAll([() => worker.close(), () => metrics?.close(), () => telemetry.shutdown()]));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`caravan worker: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
