import { describe, expect, it } from "vitest";
import { NoRoomError, TooLargeError } from "./errors.ts";
import { settle } from "./fake-clock.ts";
import { fakeResidency, MINUTE } from "./fake-loader.ts";

const options = {};

describe("room: maxLoadedModels, memory budget, eviction", () => {
  it("evicts the idle model with the shortest keep_alive first", async () => {
    const { residency, loader } = fakeResidency({ maxLoadedModels: 3 });
    await residency.load("forever", { keepAliveMs: -1, options });
    await residency.load("hour", { keepAliveMs: 60 * MINUTE, options });
    await residency.load("minute", { keepAliveMs: MINUTE, options });
    await residency.load("d", { options });
    expect(loader.calls).toEqual(["load forever", "load hour", "load minute", "unload minute", "load d"]);
    await residency.load("e", { options }); // d (5m) now has the shortest
    expect(loader.calls.slice(5)).toEqual(["unload d", "load e"]);
    await residency.load("f", { keepAliveMs: -1, options }); // then e (5m), then hour; forever last
    await residency.load("g", { keepAliveMs: -1, options });
    expect(loader.calls.slice(7)).toEqual(["unload e", "load f", "unload hour", "load g"]);
    expect(residency.snapshot().map((c) => c.model)).toEqual(["forever", "f", "g"]);
  });

  it("among equal keep_alives, evicts the least recently used", async () => {
    const { residency, clock, loader } = fakeResidency({ maxLoadedModels: 2 });
    const a = await residency.acquire("a", { options });
    const b = await residency.acquire("b", { options });
    await clock.advance(1000);
    b.release();
    await clock.advance(1000);
    a.release(); // a was used last
    await residency.load("c", { options });
    expect(loader.calls).toEqual(["load a", "load b", "unload b", "load c"]);
  });

  it("evicts only as many as the memory budget needs", async () => {
    const { residency, loader } = fakeResidency({ memoryBudgetBytes: 1000, maxLoadedModels: 10 });
    for (const [model, size] of [["a", 300], ["b", 300], ["c", 300], ["d", 350]] as const) loader.sizes.set(model, size);
    await residency.load("a", { keepAliveMs: MINUTE, options });
    await residency.load("b", { keepAliveMs: 2 * MINUTE, options });
    await residency.load("c", { keepAliveMs: 3 * MINUTE, options });
    expect(residency.usedBytes()).toBe(900);
    await residency.load("d", { options }); // needs 250 more than is free: a alone is enough
    expect(loader.calls).toEqual(["load a", "load b", "load c", "unload a", "load d"]);
    expect(residency.usedBytes()).toBe(950);
  });

  it("never evicts a busy model: NoRoomError, and nothing is evicted", async () => {
    const { residency, clock, loader } = fakeResidency({ memoryBudgetBytes: 1000 });
    loader.sizes.set("busy", 600);
    loader.sizes.set("idle", 100);
    loader.sizes.set("new", 500);
    const job = await residency.acquire("busy", { options });
    await residency.load("idle", { options });
    // evicting "idle" frees 100, which is not enough: leave it loaded
    await expect(residency.acquire("new", { options })).rejects.toBeInstanceOf(NoRoomError);
    await expect(residency.load("new", { options })).rejects.toMatchObject({ code: "no_room" });
    expect(loader.calls).toEqual(["load busy", "load idle"]);
    expect(residency.snapshot().map((c) => c.model)).toEqual(["busy", "idle"]);
    await clock.advance(1000);
    job.release(); // now "busy" is idle and can go; "idle" was used longer ago, so it goes first
    await residency.load("new", { options });
    expect(loader.calls.slice(2)).toEqual(["unload idle", "unload busy", "load new"]);
  });

  it("maxLoadedModels: all busy → NoRoomError; one released → it is evicted", async () => {
    const { residency, loader } = fakeResidency({ maxLoadedModels: 2 });
    const a = await residency.acquire("a", { options });
    const b = await residency.acquire("b", { options });
    await expect(residency.acquire("c", { options })).rejects.toBeInstanceOf(NoRoomError);
    b.release();
    const c = await residency.acquire("c", { options });
    expect(loader.calls).toEqual(["load a", "load b", "unload b", "load c"]);
    a.release();
    c.release();
  });

  it("a loading model counts toward the limits and is never evicted", async () => {
    const { residency, loader } = fakeResidency({ maxLoadedModels: 1 });
    loader.holdLoads = true;
    const a = residency.load("a", { options });
    await settle();
    await expect(residency.load("b", { options })).rejects.toBeInstanceOf(NoRoomError);
    loader.finishLoad("a");
    await a;
    loader.holdLoads = false;
    await residency.load("b", { options }); // a is idle now
    expect(loader.calls).toEqual(["load a", "unload a", "load b"]);
  });

  it("loads of different models run at once, both counted while loading", async () => {
    const { residency, loader } = fakeResidency({ memoryBudgetBytes: 1000 });
    loader.holdLoads = true;
    loader.sizes.set("a", 400);
    loader.sizes.set("b", 400);
    loader.sizes.set("c", 400);
    const a = residency.acquire("a", { options });
    const b = residency.acquire("b", { options });
    await settle();
    expect(loader.pendingLoads()).toEqual(["a", "b"]);
    expect(residency.usedBytes()).toBe(800);
    await expect(residency.acquire("c", { options })).rejects.toBeInstanceOf(NoRoomError);
    loader.finishLoad("b");
    loader.finishLoad("a");
    (await a).release();
    (await b).release();
  });

  it("a model above the whole budget is refused before anything is evicted or loaded, naming what sized it", async () => {
    const { residency, loader } = fakeResidency({ memoryBudgetBytes: 1000 });
    loader.sizes.set("huge", 5000);
    await residency.load("small", { options });
    const job = await residency.acquire("small", { options });
    for (const attempt of [residency.load("huge", { options: { num_ctx: 9000 } }), residency.acquire("huge", { options: { num_ctx: 9000 } })]) {
      const error = await attempt.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(TooLargeError);
      expect((error as Error).message).toMatch(/model 'huge' with num_ctx 9000 needs about 4\.9 KiB, more than this worker's memory budget of 1000 bytes \(CARAVAN_MEMORY_BUDGET\)/);
    }
    expect(loader.calls).toEqual(["load small"]);
    expect(residency.isLoaded("small")).toBe(true);
    job.release();
  });

  it("loads only after the evicted model's memory is freed", async () => {
    const { residency, loader } = fakeResidency({ maxLoadedModels: 1 });
    await residency.load("a", { options });
    loader.holdUnloads = true;
    const b = residency.load("b", { options });
    await settle();
    expect(loader.calls).toEqual(["load a", "unload a"]);
    expect(residency.snapshot()).toMatchObject([{ model: "b", loading: true }]);
    loader.finishUnload("a");
    await b;
    expect(loader.calls).toEqual(["load a", "unload a", "load b"]);
  });

  it("other load options replace the copy once its running requests are done; the snapshot shows the new context", async () => {
    const { residency, loader } = fakeResidency();
    const first = await residency.acquire("a", { options: { num_ctx: 1024 } });
    const second = residency.acquire("a", { options: { num_ctx: 4096 } });
    await settle();
    expect(loader.calls).toEqual(["load a num_ctx=1024"]); // the running request keeps its copy
    first.release();
    const job = await second;
    expect(loader.calls).toEqual(["load a num_ctx=1024", "unload a", "load a num_ctx=4096"]);
    expect(job.loadDurationNs).toBe(2_000_000);
    expect(residency.snapshot()).toMatchObject([{ model: "a", context_length: 4096, busy: 1 }]);
    job.release();
    // the same options again: no reload
    (await residency.acquire("a", { options: { num_ctx: 4096 } })).release();
    expect(loader.calls).toHaveLength(3);
  });

  it("a reload that cannot fit is refused and the loaded copy goes on serving", async () => {
    const { residency, loader } = fakeResidency({ memoryBudgetBytes: 1000 });
    loader.sizes.set("a", 300);
    loader.sizes.set("a@4096", 900);
    loader.sizes.set("a@9999", 5000);
    loader.sizes.set("busy", 500);
    const job = await residency.acquire("a", { options });
    const other = await residency.acquire("busy", { options });
    await expect(residency.acquire("a", { options: { num_ctx: 9999 } })).rejects.toBeInstanceOf(TooLargeError);
    // 900 fits where a's 300 were, but not beside the busy 500
    await expect(residency.acquire("a", { options: { num_ctx: 4096 } })).rejects.toBeInstanceOf(NoRoomError);
    expect(loader.calls).toEqual(["load a", "load busy"]);
    const again = await residency.acquire("a", { options });
    expect(again.loadDurationNs).toBe(0);
    again.release();
    job.release();
    other.release();
    // with the busy model idle, it is evicted for the reload
    const reloaded = await residency.acquire("a", { options: { num_ctx: 4096 } });
    expect(loader.calls).toEqual(["load a", "load busy", "unload a", "unload busy", "load a num_ctx=4096"]);
    expect(residency.usedBytes()).toBe(900);
    reloaded.release();
  });
});
