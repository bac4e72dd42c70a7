import { loadGatewayConfig, startGateway } from "@caravan/gateway";
import { ConfigError } from "@caravan/protocol";
import { closeAll, type Logger } from "@caravan/runtime";
import { startTelemetry } from "@caravan/telemetry";
import { RedisGatewayTransport } from "@caravan/transport";

/** `pnpm start:gateway`: a gateway process that sends jobs to workers over Redis. */
export async function start(log: Logger): Promise<() => Promise<void>> {
  const config = loadGatewayConfig();
  if (!config.redisUrl) throw new ConfigError("invalid configuration: REDIS_URL: required for a separate gateway process (use `pnpm start` for one process without Redis)");
  const telemetry = startTelemetry({ serviceName: "caravan-gateway" });
  const transport = new RedisGatewayTransport({ url: config.redisUrl, prefix: config.redisPrefix });
  const gateway = await startGateway({ config, transport, log, telemetry, shared: { redisUrl: config.redisUrl, prefix: config.redisPrefix } });
  return () => closeAll([() => gateway.close(), () => transport.close(), () => telemetry.shutdown()]);
}
