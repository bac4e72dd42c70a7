import { ConfigError } from "@caravan/protocol";
import { closeAll, type Logger } from "@caravan/runtime";
import { startTelemetry } from "@caravan/telemetry";
import { RedisWorkerTransport } from "@caravan/transport";
import { loadWorkerConfig, serveWorkerMetrics, startWorker } from "@caravan/worker";

/** `pnpm start:worker`: a worker process that takes jobs from Redis. */
export async function start(log: Logger): Promise<() => Promise<void>> {
  const config = loadWorkerConfig();
  if (!config.redisUrl) throw new ConfigError("invalid configuration: REDIS_URL: required for a separate worker process (use `pnpm start` for one process without Redis)");
  const telemetry = startTelemetry({ serviceName: "caravan-worker" });
  const transport = new RedisWorkerTransport({ url: config.redisUrl, prefix: config.redisPrefix, workerId: config.workerId });
  const worker = await startWorker(config, transport, log, telemetry);
  const metrics = await serveWorkerMetrics(telemetry, config.metricsPort, log);
  return () => closeAll([() => worker.close(), () => metrics?.close(), () => telemetry.shutdown()]);
}
