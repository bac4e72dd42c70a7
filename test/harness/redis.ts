import { startRedisServer, type LocalRedis } from "@caravan/cli";

export type TestRedis = LocalRedis;

/**
 * A private redis-server on a free port, with nothing persisted: tests never share the
 * machine's Redis, and each run starts empty. (The same one `pnpm cluster` starts.)
 */
export function startRedis(): Promise<TestRedis> {
  return startRedisServer();
}
