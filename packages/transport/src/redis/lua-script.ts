import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { overRedis } from "./unreachable.ts";

type Arg = string | number;

/**
 * A Lua script bound to one connection and run by its SHA1, through ioredis' `defineCommand`:
 * the first call on a connection sends the text (EVAL), later calls only the 40-character digest
 * (EVALSHA), so Redis neither receives nor hashes the text again on every request's way to the
 * queue. After a Redis restart (its script cache empty) the digest misses once and ioredis sends
 * the text again by itself. The first `keys` arguments of a call are keys, the rest ARGV. A call
 * that fails for want of Redis rejects with a TransportUnavailableError.
 */
export function luaScript<T>(redis: Redis, keys: number, lua: string): (...args: Arg[]) => Promise<T> {
  // Named after its digest: two modules binding the same text share one command, and two texts never collide.
  const name = `caravan_${createHash("sha1").update(lua).digest("hex")}`;
  if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: keys, lua });
  const command = (redis as unknown as Record<string, (...args: Arg[]) => Promise<T>>)[name]!;
  return (...args) => overRedis(command.apply(redis, args));
}
