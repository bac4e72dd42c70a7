import { describe, expect, it } from "vitest";
import { ResidencyClosedError } from "./errors.ts";
import { FakeClock, settle } from "./fake-clock.ts";
import { fakeResidency, FakeLoader, MINUTE } from "./fake-loader.ts";
import { Residency } from "./residency.ts";

const options = {};

/** Resolves to "pending" if the promise has not settled after pending callbacks ran. */
async function state(promise: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  let result: "pending" | "resolved" | "rejected" = "pending";
  promise.then(
    () => (result = "resolved"),
    () => (result = "rejected"),
  );
  await settle();
  return result;
}

describe("concurrent loads", () => {
  it("two acquires for an unloaded model share one load", async () => {
    const { residency, clock, loader } = fakeResidency();
    loader.holdLoads = true;
    const first = residency.acquire("a", { options });
    await clock.advance(1); // the others come 1 ms into a 2 ms load
    const second = residency.acquire("a", { options });
    const plain = residency.load("a", { options });
    await settle();
    expect(residency.snapshot()[0]).toMatchObject({ loading: true, busy: 2 });
    await clock.advance(1);
    loader.finishLoad("a");
    const [one, two, three] = await Promise.all([first, second, plain]);
    expect(loader.calls).toEqual(["load a"]);
    expect(one.loadDurationNs).toBe(2_000_000); // the loader's figure
    expect(two.loadDurationNs).toBe(1_000_000); // the part of the load it waited for
    expect(three.loadDurationNs).toBe(1_000_000);
    expect(residency.snapshot()[0]).toMatchObject({ loading: false, busy: 2 });
    // both run on the one copy that was loaded
    expect([one.handle, two.handle]).toEqual(["a#1", "a#1"]);
    one.release();
    two.release();
  });

  it("a failed load rejects every waiter and leaves the model unloaded; the next request loads again", async () => {
    const { residency, loader } = fakeResidency();
    loader.holdLoads = true;
    const first = residency.acquire("a", { options });
    const second = residency.acquire("a", { options });
    const plain = residency.load("a", { options });
    await settle();
    loader.failLoad("a", new Error("out of memory"));
    await expect(first).rejects.toThrow("out of memory");
    await expect(second).rejects.toThrow("out of memory");
    await expect(plain).rejects.toThrow("out of memory");
    expect(residency.isLoaded("a")).toBe(false);
    expect(residency.snapshot()).toEqual([]);
    expect(residency.usedBytes()).toBe(0);

    loader.holdLoads = false;
    (await residency.acquire("a", { options })).release();
    expect(loader.calls).toEqual(["load a", "load a"]);
    expect(residency.isLoaded("a")).toBe(true);
  });

  it("a load that throws synchronously fails the same way", async () => {
    const clock = new FakeClock();
    const deps = new FakeLoader(clock).deps();
    const residency = new Residency(
      { maxLoadedModels: 3, memoryBudgetBytes: 1000, defaultKeepAliveMs: MINUTE },
      {
        ...deps,
        load: () => {
          throw new Error("bad file");
        },
      },
    );
    await expect(residency.acquire("a", { options })).rejects.toThrow("bad file");
    expect(residency.snapshot()).toEqual([]);
  });
});

describe("unload", () => {
  it("is a no-op for a model that is not loaded", async () => {
    const { residency, loader } = fakeResidency();
    await residency.unload("a");
    expect(loader.calls).toEqual([]);
  });

  it("waits for the current users, then unloads", async () => {
    const { residency, loader } = fakeResidency();
    const job = await residency.acquire("a", { keepAliveMs: -1, options });
    const unloaded = residency.unload("a");
    expect(await state(unloaded)).toBe("pending");
    expect(residency.isLoaded("a")).toBe(false); // takes no new work
    expect(residency.snapshot()).toEqual([]);
    expect(residency.usedBytes()).toBe(100); // still holds its memory
    expect(loader.calls).toEqual(["load a"]);
    job.release();
    await unloaded;
    expect(loader.calls).toEqual(["load a", "unload a"]);
    expect(loader.unloaded).toEqual(["a#1"]); // the copy the job ran on
    expect(residency.usedBytes()).toBe(0);
  });

  it("an acquire during the unload waits for it, then loads again", async () => {
    const { residency, loader } = fakeResidency();
    const job = await residency.acquire("a", { options });
    const unloaded = residency.unload("a");
    loader.holdUnloads = true;
    const next = residency.acquire("a", { keepAliveMs: MINUTE, options });
    expect(await state(next)).toBe("pending");
    job.release();
    await settle();
    expect(loader.calls).toEqual(["load a", "unload a"]);
    expect(await state(next)).toBe("pending"); // the engine has not freed it yet
    loader.finishUnload("a");
    await unloaded;
    const again = await next;
    expect(again.loadDurationNs).toBe(2_000_000);
    expect(again.handle).toBe("a#2"); // a new copy, not the one unloaded
    expect(loader.calls).toEqual(["load a", "unload a", "load a"]);
    expect(residency.snapshot()[0]).toMatchObject({ busy: 1, keep_alive_ms: MINUTE });
    again.release();
  });

  it("a model still loading is unloaded once its load ends (after its users)", async () => {
    const { residency, loader } = fakeResidency();
    loader.holdLoads = true;
    const job = residency.acquire("a", { options });
    await settle();
    const unloaded = residency.unload("a");
    loader.finishLoad("a");
    const held = await job;
    expect(await state(unloaded)).toBe("pending");
    held.release();
    await unloaded;
    expect(loader.calls).toEqual(["load a", "unload a"]);
  });

  it("an engine that fails to unload: the call rejects, the model is forgotten, the error logged", async () => {
    const { residency, loader } = fakeResidency();
    await residency.load("a", { options });
    loader.failUnloads.add("a");
    await expect(residency.unload("a")).rejects.toThrow("cannot unload a");
    expect(residency.snapshot()).toEqual([]);
    expect(loader.logs.some((l) => l.level === "error" && l.fields?.model === "a")).toBe(true);
  });

  it("a timer's unload that fails is logged, not thrown", async () => {
    const { residency, clock, loader } = fakeResidency();
    await residency.load("a", { keepAliveMs: 1000, options });
    loader.failUnloads.add("a");
    await clock.advance(1000);
    expect(residency.snapshot()).toEqual([]);
    expect(loader.logs.some((l) => l.level === "error" && l.msg.includes("unload"))).toBe(true);
  });
});

describe("unloadAll", () => {
  it("unloads everything after its users finish, refuses new work, and is safe to call twice", async () => {
    const { residency, loader, clock } = fakeResidency();
    loader.failUnloads.add("b"); // one failure does not stop the others
    await residency.load("a", { keepAliveMs: -1, options });
    await residency.load("b", { options });
    const job = await residency.acquire("c", { options });
    loader.holdLoads = true;
    const loading = residency.acquire("d", { options });
    await settle();

    const closed = residency.unloadAll();
    expect(residency.unloadAll()).toBe(closed);
    await expect(residency.acquire("a", { options })).rejects.toBeInstanceOf(ResidencyClosedError);
    await expect(residency.load("e", { options })).rejects.toMatchObject({ code: "draining" });
    expect(await state(closed)).toBe("pending");

    loader.finishLoad("d");
    const d = await loading; // a job already waiting for its load still runs
    job.release();
    expect(await state(closed)).toBe("pending");
    d.release();
    await closed;
    expect(residency.snapshot()).toEqual([]);
    expect(residency.usedBytes()).toBe(0);
    expect([...loader.calls].sort()).toEqual(["load a", "load b", "load c", "load d", "unload a", "unload b", "unload c", "unload d"]);
    expect(clock.pending()).toBe(0);
    await residency.unloadAll();
  });
});
