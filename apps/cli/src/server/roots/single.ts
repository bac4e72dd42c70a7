import { loadGatewayConfig, startGateway } from "@caravan/gateway";
import { closeAll, type Logger } from "@caravan/runtime";
import { startTelemetry } from "@caravan/telemetry";
import { InMemoryTransport } from "@caravan/transport";
import { loadWorkerConfig, startWorker } from "@caravan/worker";

/**
 * `pnpm start`: gateway and worker in one process over the in-memory transport — no Redis.
 * With REDIS_URL set, `pnpm start:gateway` and `pnpm start:worker` are the multi-process form.
 * One telemetry for both: the gateway's /metrics shows the worker's metrics too (no metrics port
 * of the worker's own).
 */
export async function start(log: Logger): Promise<() => Promise<void>> {
  const gatewayConfig = loadGatewayConfig();
  const workerConfig = loadWorkerConfig();
  if (gatewayConfig.redisUrl) log.warn("REDIS_URL is set but `pnpm start` runs in one process without Redis; use start:gateway and start:worker for Redis");
  const telemetry = startTelemetry({ serviceName: "caravan" });
  const transport = new InMemoryTransport();
  const worker = await startWorker(workerConfig, transport, log, telemetry);
  const gateway = await startGateway({ config: gatewayConfig, transport, log, telemetry });
  return () => closeAll([() => gateway.close(), () => worker.close(), () => telemetry.shutdown()]);
}
