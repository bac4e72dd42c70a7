import type { Redis } from "ioredis";
import { luaScript, overRedis } from "@caravan/transport";
import { FAIR_TTL_MS, LEASE_STALE_MS, MAX_TAG, retryAfterS, WINDOW_MS, windowOf, type LimitStore, type Quota, type Verdict } from "./limit-store.ts";

/**
 * Checks the three limits and takes the slot in one step. KEYS: leases (zset, score = taken at),
 * requests this/previous minute, tokens this/previous minute. Returns {0} when admitted, or
 * {1|2|3, current, previous} for the concurrency, rpm or tpm limit.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[7])
local maxc = tonumber(ARGV[3])
if maxc > 0 and redis.call('ZCARD', KEYS[1]) >= maxc then return {1, 0, 0} end
local w = tonumber(ARGV[6])
local rc = tonumber(redis.call('GET', KEYS[2]) or '0')
local rp = tonumber(redis.call('GET', KEYS[3]) or '0')
local rpm = tonumber(ARGV[4])
if rpm > 0 and rc + rp * w >= rpm then return {2, rc, rp} end
local tc = tonumber(redis.call('GET', KEYS[4]) or '0')
local tp = tonumber(redis.call('GET', KEYS[5]) or '0')
local tpm = tonumber(ARGV[5])
if tpm > 0 and tc + tp * w >= tpm then return {3, tc, tp} end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[9])
return {0, 0, 0}
`;

/** Start-time fair queueing per model: tag = max(virtual time, the key's last tag) + 1. */
const FAIR_ENTER = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local field = 'f:' .. ARGV[1]
local f = tonumber(redis.call('HGET', KEYS[1], field) or '0')
local tag = math.max(v, f) + 1
redis.call('HSET', KEYS[1], field, tag)
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tag
`;

/** A job left the queue; the virtual time moves to the tag of the job a worker started. Empty queue → start over. */
const FAIR_LEAVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'n', -1)
if n <= 0 then redis.call('DEL', KEYS[1]) return 0 end
if ARGV[2] == '1' then
  local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
  if tonumber(ARGV[1]) > v then redis.call('HSET', KEYS[1], 'v', ARGV[1]) end
end
return n
`;

const LIMITS = ["concurrency", "rpm", "tpm"] as const;

/**
 * LimitStore shared by every gateway of a cluster. Keys live under PREFIX:limits: and PREFIX:fair:.
 * Redis being unreachable is the transport's TransportUnavailableError (luaScript, overRedis).
 */
export class RedisLimitStore implements LimitStore {
  private readonly acquireScript: (...args: Array<string | number>) => Promise<[number, number, number]>;
  private readonly fairEnterScript: (...args: Array<string | number>) => Promise<number>;
  private readonly fairLeaveScript: (...args: Array<string | number>) => Promise<number>;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.acquireScript = luaScript(redis, 5, ACQUIRE);
    this.fairEnterScript = luaScript(redis, 1, FAIR_ENTER);
    this.fairLeaveScript = luaScript(redis, 1, FAIR_LEAVE);
  }

  async acquire(keyId: string, quota: Quota, leaseId: string, now = Date.now()): Promise<Verdict> {
    const { current, previousWeight } = windowOf(now);
    const base = `${this.prefix}:limits:${keyId}`;
    const [code, cur, prev] = await this.acquireScript(
      `${base}:leases`,
      `${base}:req:${current}`,
      `${base}:req:${current - 1}`,
      `${base}:tok:${current}`,
      `${base}:tok:${current - 1}`,
      now,
      leaseId,
      quota.maxConcurrent,
      quota.rpm,
      quota.tpm,
      previousWeight,
      now - LEASE_STALE_MS,
      LEASE_STALE_MS,
      WINDOW_MS * 2 + 5000,
    );
    if (code === 0) return { ok: true };
    const limit = LIMITS[code - 1]!;
    if (limit === "concurrency") return { ok: false, limit, retryAfterS: 1 };
    return { ok: false, limit, retryAfterS: retryAfterS(limit === "rpm" ? quota.rpm : quota.tpm, cur, prev, now) };
  }

  async release(keyId: string, leaseId: string): Promise<void> {
    await overRedis(this.redis.zrem(`${this.prefix}:limits:${keyId}:leases`, leaseId));
  }

  async charge(keyId: string, tokens: number, now = Date.now()): Promise<void> {
    if (tokens <= 0) return;
    const key = `${this.prefix}:limits:${keyId}:tok:${windowOf(now).current}`;
    await overRedis(this.redis.multi().incrby(key, tokens).pexpire(key, WINDOW_MS * 2 + 5000).exec());
  }

  async fairEnter(model: string, keyId: string): Promise<number> {
    const tag = await this.fairEnterScript(`${this.prefix}:fair:${model}`, keyId, FAIR_TTL_MS);
    return Math.min(tag, MAX_TAG);
  }

  async fairLeave(model: string, tag: number, started: boolean): Promise<void> {
    await this.fairLeaveScript(`${this.prefix}:fair:${model}`, tag, started ? "1" : "0");
  }

  async close(): Promise<void> {}
}
