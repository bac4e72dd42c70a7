import { ConfigError } from "@caravan/protocol";
import { RedisWorkerTransport } from "@caravan/transport";
import { loadWorkerConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startWorker } from "./worker.ts";
import { onShutdown } from "./shutdown.ts";

/** `pnpm start:worker`: a worker process that takes jobs from Redis. */
const log = createLogger("caravan-worker");
try {
  const config = loadWorkerConfig();
  if (!config.redisUrl) throw new ConfigError("invalid configuration: REDIS_URL: required for a separate worker process (use `pnpm start` for one process without Redis)");
  const transport = new RedisWorkerTransport({ url: config.redisUrl, prefix: config.redisPrefix, workerId: config.workerId });
  const worker = await startWorker(config, transport, log);
  onShutdown(log, () => worker.close());
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`caravan worker: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
