import { ConfigError } from "@caravan/protocol";
import { startTelemetry } from "@caravan/telemetry";
import { closeAll, createLogger, onShutdown } from "@caravan/runtime";
import { RedisGatewayTransport } from "@caravan/transport";
import { loadGatewayConfig } from "./config.ts";
import { startGateway } from "./server.ts";

/** `pnpm start:gateway`: a gateway process that sends jobs to workers over Redis. */
const log = createLogger("caravan-gateway");
try {
  const config = loadGatewayConfig();
  if (!config.redisUrl) throw new ConfigError("invalid configuration: REDIS_URL: required for a separate gateway process (use `pnpm start` for one process without Redis)");
  const telemetry = startTelemetry({ serviceName: "caravan-gateway" });
  const transport = new RedisGatewayTransport({ url: config.redisUrl, prefix: config.redisPrefix });
  const gateway = await startGateway({ config, transport, log, telemetry, shared: { redisUrl: config.redisUrl, prefix: config.redisPrefix } });
  onShutdown(log, () => closeAll([() => gateway.close(), () => transport.close(), () => telemetry.shutdown()]));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`caravan gateway: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
