import { describe, expect, it } from "vitest";
import { SlotPool } from "./slot-pool.ts";

describe("SlotPool", () => {
  it("hands out free slots at once, then queues in arrival order", async () => {
    const pool = new SlotPool(["a", "b"]);
    const first = await pool.acquire();
    const second = await pool.acquire();
    expect(new Set([first, second])).toEqual(new Set(["a", "b"]));
    const order: string[] = [];
    const third = pool.acquire().then((s) => order.push(`third:${s}`));
    const fourth = pool.acquire().then((s) => order.push(`fourth:${s}`));
    expect(pool.waiting).toBe(2);
    pool.release(second);
    pool.release(first);
    await Promise.all([third, fourth]);
    expect(order).toEqual([`third:${second}`, `fourth:${first}`]);
    expect(pool.busy).toBe(2);
  });

  it("gives the most recently released slot first (its cache is warm)", async () => {
    const pool = new SlotPool(["a", "b"]);
    const a = await pool.acquire();
    pool.release(a);
    expect(await pool.acquire()).toBe(a);
  });

  it("takes an aborted waiter out of the line", async () => {
    const pool = new SlotPool(["a"]);
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    const next = pool.acquire();
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError", code: "cancelled" });
    expect(pool.waiting).toBe(1);
    pool.release(held);
    expect(await next).toBe("a");
  });

  it("rejects an already aborted signal without taking a slot", async () => {
    const pool = new SlotPool(["a"]);
    await expect(pool.acquire(AbortSignal.abort())).rejects.toMatchObject({ name: "AbortError" });
    expect(pool.busy).toBe(0);
  });

  it("close rejects waiters and later acquires", async () => {
    const pool = new SlotPool(["a"]);
    await pool.acquire();
    const waiting = pool.acquire();
    const error = new Error("closed");
    pool.close(error);
    await expect(waiting).rejects.toBe(error);
    await expect(pool.acquire()).rejects.toBe(error);
  });
});
