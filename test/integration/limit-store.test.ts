import { describe, expect, it } from "vitest";
import { MemoryLimitStore } from "../../apps/gateway/src/limits/memory-limit-store.ts";
import type { LimitStore, Quota } from "../../apps/gateway/src/limits/limit-store.ts";
import { RedisLimitStore } from "../../apps/gateway/src/limits/redis-limit-store.ts";
import { useRedis } from "../harness/redis.ts";

/**
 * The contract of a LimitStore, over both implementations: the in-memory one (`pnpm start`) and
 * the Redis one (a cluster) against a real redis-server. Time is passed in, not waited for.
 */
const redis = useRedis();
let run = 0;

const open: Quota = { maxConcurrent: 0, rpm: 0, tpm: 0 };
// 30 s into a minute: the previous minute still counts half
const T0 = Date.UTC(2030, 0, 1, 0, 0, 30);

describe.each([
  ["memory", (): LimitStore => new MemoryLimitStore()],
  ["redis", (): LimitStore => new RedisLimitStore(redis.client, `limits-test-${process.pid}-${++run}`)],
])("%s LimitStore", (_, make) => {
  it("bounds concurrent requests per key, and frees a slot on release (twice is harmless)", async () => {
    const store = make();
    const quota = { ...open, maxConcurrent: 2 };
    expect(await store.acquire("a", quota, "1", T0)).toEqual({ ok: true });
    expect(await store.acquire("a", quota, "2", T0)).toEqual({ ok: true });
    expect(await store.acquire("a", quota, "3", T0)).toEqual({ ok: false, limit: "concurrency", retryAfterS: 1 });
    expect(await store.acquire("b", quota, "1", T0)).toEqual({ ok: true });
    await store.release("a", "1");
    await store.release("a", "1");
    expect(await store.acquire("a", quota, "3", T0)).toEqual({ ok: true });
    expect(await store.acquire("a", quota, "4", T0)).toMatchObject({ ok: false, limit: "concurrency" });
  });

  it("forgets a slot held past the stale bound (a gateway that died)", async () => {
    const store = make();
    const quota = { ...open, maxConcurrent: 1 };
    expect(await store.acquire("a", quota, "1", T0)).toEqual({ ok: true });
    expect(await store.acquire("a", quota, "2", T0 + 11 * 60_000)).toEqual({ ok: true });
  });

  it("limits requests per minute with a Retry-After that ends the excess", async () => {
    const store = make();
    const quota = { ...open, rpm: 3 };
    for (const id of ["1", "2", "3"]) {
      expect(await store.acquire("a", quota, id, T0)).toEqual({ ok: true });
      await store.release("a", id);
    }
    const refused = await store.acquire("a", quota, "4", T0);
    expect(refused).toMatchObject({ ok: false, limit: "rpm" });
    const wait = (refused as { retryAfterS: number }).retryAfterS;
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(90);
    // still refused just before, admitted once it is over
    expect(await store.acquire("a", quota, "5", T0 + (wait - 1) * 1000 - 500)).toMatchObject({ ok: false, limit: "rpm" });
    expect(await store.acquire("a", quota, "6", T0 + wait * 1000)).toEqual({ ok: true });
    // other keys are not affected
    expect(await store.acquire("b", quota, "1", T0)).toEqual({ ok: true });
  });

  it("refuses new requests while over tokens per minute (charged after the request)", async () => {
    const store = make();
    const quota = { ...open, tpm: 100 };
    expect(await store.acquire("a", quota, "1", T0)).toEqual({ ok: true });
    // a request running when the limit is reached still ends; the next one is refused
    expect(await store.acquire("a", quota, "2", T0)).toEqual({ ok: true });
    await store.charge("a", 150, T0);
    const refused = await store.acquire("a", quota, "3", T0 + 1000);
    expect(refused).toMatchObject({ ok: false, limit: "tpm" });
    expect((refused as { retryAfterS: number }).retryAfterS).toBeGreaterThanOrEqual(1);
    expect(await store.acquire("a", quota, "4", T0 + 120_000)).toEqual({ ok: true });
  });

  it("tags queued jobs round-robin across keys, in order within a key, and starts over when the queue empties", async () => {
    const store = make();
    const a = [await store.fairEnter("m", "A"), await store.fairEnter("m", "A"), await store.fairEnter("m", "A"), await store.fairEnter("m", "A")];
    expect(a).toEqual([1, 2, 3, 4]);
    // B arrives after A's four: its first job ranks with A's first
    expect(await store.fairEnter("m", "B")).toBe(1);
    // A's first two start: B's next job ranks after the virtual time (2), beside A's third
    await store.fairLeave("m", 1, true);
    await store.fairLeave("m", 2, true);
    expect(await store.fairEnter("m", "B")).toBe(3);
    expect(await store.fairEnter("m", "C")).toBe(3);
    // another model is independent
    expect(await store.fairEnter("other", "A")).toBe(1);
    // everything leaves: tags start over
    for (const tag of [3, 4, 1, 3, 3]) await store.fairLeave("m", tag, true);
    expect(await store.fairEnter("m", "A")).toBe(1);
  });
});
