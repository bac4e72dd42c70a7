import type { Redis } from "ioredis";
import type { Admission, QueueLimits, QueueStats } from "../types.ts";
import type { RedisNames } from "./keys.ts";
import { luaScript } from "./lua-script.ts";
import { overRedis } from "./unreachable.ts";

/**
 * Admission across gateways in one Lua script, so the bound holds exactly however many
 * gateways admit at once. It first drops entries older than `staleAfterMs` (left by a gateway
 * that crashed before it could `leave`), then counts, then adds.
 * Keys are built inside the script from the prefix: fine on a single Redis, not on a cluster.
 */
const ADMIT = `
local models = redis.call('SMEMBERS', KEYS[1])
local total = 0
for _, m in ipairs(models) do
  local key = ARGV[1] .. m
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[7])
  local n = redis.call('ZCARD', key)
  if n == 0 then redis.call('SREM', KEYS[1], m) end
  total = total + n
end
local mkey = ARGV[1] .. ARGV[2]
if redis.call('ZSCORE', mkey, ARGV[3]) then return 1 end
if total >= tonumber(ARGV[6]) then return -2 end
if redis.call('ZCARD', mkey) >= tonumber(ARGV[5]) then return -1 end
redis.call('ZADD', mkey, ARGV[4], ARGV[3])
redis.call('SADD', KEYS[1], ARGV[2])
return 1
`;

/**
 * Every model with jobs waiting: its count and its oldest entry's admission time, in one round
 * trip (placement reads this on every request's way to the queue).
 */
const STATS = `
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. m
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] then
    table.insert(out, m)
    table.insert(out, redis.call('ZCARD', key))
    table.insert(out, oldest[2])
  end
end
return out
`;

export class RedisLedger {
  private readonly admitScript: (...args: Array<string | number>) => Promise<number>;
  private readonly statsScript: (...args: Array<string | number>) => Promise<Array<string | number>>;

  constructor(
    private readonly redis: Redis,
    private readonly names: RedisNames,
  ) {
    this.admitScript = luaScript(redis, 1, ADMIT);
    this.statsScript = luaScript(redis, 1, STATS);
  }

  async admit(model: string, jobId: string, limits: QueueLimits): Promise<Admission> {
    const now = Date.now();
    const result = await this.admitScript(this.names.queuedModels, this.names.queuedPrefix, model, jobId, now, limits.perModel, limits.total, now - limits.staleAfterMs);
    if (result === 1) return { ok: true };
    return { ok: false, full: result === -2 ? "total" : "model" };
  }

  async leave(model: string, jobId: string): Promise<void> {
    await overRedis(this.redis.zrem(this.names.queuedPrefix + model, jobId));
  }

  async stats(): Promise<QueueStats[]> {
    const flat = await this.statsScript(this.names.queuedModels, this.names.queuedPrefix);
    const stats: QueueStats[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) stats.push({ model: String(flat[i]), waiting: Number(flat[i + 1]), oldestAdmittedAt: Number(flat[i + 2]) });
    return stats;
  }
}
