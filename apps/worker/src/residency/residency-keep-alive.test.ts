import { LoadedCopy } from "@caravan/protocol";
import { describe, expect, it } from "vitest";
import { MAX_TIMER_DELAY_MS } from "./clock.ts";
import { fakeResidency, MINUTE } from "./fake-loader.ts";

const options = {};
const DAY = 24 * 60 * MINUTE;

describe("keep_alive and idle timers", () => {
  it("starts the idle timer when the last reference is released, and unloads after the default keep_alive", async () => {
    const { residency, clock, loader } = fakeResidency();
    const job = await residency.acquire("a", { options });
    await clock.advance(10 * MINUTE); // busy: no timer runs
    expect(residency.isLoaded("a")).toBe(true);
    job.release();
    await clock.advance(5 * MINUTE - 1);
    expect(residency.isLoaded("a")).toBe(true);
    await clock.advance(1);
    expect(residency.isLoaded("a")).toBe(false);
    expect(loader.calls).toEqual(["load a", "unload a"]);
    expect(residency.snapshot()).toEqual([]);
  });

  it("starts the idle timer at `load` when nobody holds the model", async () => {
    const { residency, clock, loader } = fakeResidency();
    await residency.load("a", { keepAliveMs: MINUTE, options });
    await clock.advance(MINUTE);
    expect(loader.calls).toEqual(["load a", "unload a"]);
  });

  // after the release, when (ms later) the model is unloaded; null = never
  it.each([
    ["absent: the default, 5m", undefined, 5 * MINUTE],
    ["0: at release", 0, 0],
    ["1s", 1000, 1000],
    ["-1: never", -1, null],
    ["any negative: never", -5000, null],
    ["30 days (past setTimeout's 2^31 − 1 ms)", 30 * DAY, 30 * DAY],
  ])("keep_alive %s", async (_name, keepAliveMs, unloadsAfter) => {
    const { residency, clock } = fakeResidency();
    const job = await residency.acquire("a", { keepAliveMs, options });
    job.release();
    if (unloadsAfter === null) {
      await clock.advance(1000 * DAY);
      expect(residency.isLoaded("a")).toBe(true);
      expect(clock.pending()).toBe(0); // no timer at all
      return;
    }
    if (unloadsAfter > 0) {
      await clock.advance(unloadsAfter - 1);
      expect(residency.isLoaded("a")).toBe(true);
      await clock.advance(1);
    } else {
      await clock.advance(0);
    }
    expect(residency.isLoaded("a")).toBe(false);
  });

  it("does not fire early for a keep_alive longer than 2^31 − 1 ms (Node's timers would fire at once)", async () => {
    const { residency, clock } = fakeResidency();
    const keepAliveMs = 3 * MAX_TIMER_DELAY_MS + 5; // ~74.6 days
    await residency.load("a", { keepAliveMs, options });
    await clock.advance(1);
    await clock.advance(MAX_TIMER_DELAY_MS);
    await clock.advance(2 * MAX_TIMER_DELAY_MS);
    expect(residency.isLoaded("a")).toBe(true);
    expect(residency.snapshot()[0]!.expires_at).toBe(clock.now() + 4);
    await clock.advance(4);
    expect(residency.isLoaded("a")).toBe(false);
  });

  it("sticky keep_alive: the latest request's value wins, and a request without one sets the default", async () => {
    const { residency, clock } = fakeResidency();
    (await residency.acquire("a", { keepAliveMs: 60 * MINUTE, options })).release();
    expect(residency.snapshot()[0]!.keep_alive_ms).toBe(60 * MINUTE);
    (await residency.acquire("a", { options })).release(); // absent → back to the default 5m
    expect(residency.snapshot()[0]!.keep_alive_ms).toBe(5 * MINUTE);
    await clock.advance(5 * MINUTE);
    expect(residency.isLoaded("a")).toBe(false);
  });

  it("sticky keep_alive: a later request's value applies when an earlier request releases last", async () => {
    const { residency, clock } = fakeResidency();
    const first = await residency.acquire("a", { keepAliveMs: 0, options });
    const second = await residency.acquire("a", { keepAliveMs: -1, options });
    second.release();
    first.release(); // the last release, but the sticky value is now forever
    await clock.advance(1000 * DAY);
    expect(residency.isLoaded("a")).toBe(true);
    expect(residency.snapshot()[0]!.keep_alive_ms).toBe(-1);
  });

  it("keep_alive 0 unloads when the last of several references is released", async () => {
    const { residency, loader } = fakeResidency();
    const first = await residency.acquire("a", { keepAliveMs: 0, options });
    const second = await residency.acquire("a", { keepAliveMs: 0, options });
    first.release();
    expect(residency.isLoaded("a")).toBe(true);
    second.release();
    expect(residency.isLoaded("a")).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(loader.calls).toEqual(["load a", "unload a"]);
  });

  it("`load` with keep_alive 0 and no users unloads right away; with users, at their release", async () => {
    const { residency, loader } = fakeResidency();
    await residency.load("a", { keepAliveMs: 0, options });
    expect(residency.isLoaded("a")).toBe(false);

    const job = await residency.acquire("b", { options });
    await residency.load("b", { keepAliveMs: 0, options });
    expect(residency.isLoaded("b")).toBe(true);
    job.release();
    expect(residency.isLoaded("b")).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(loader.calls).toEqual(["load a", "unload a", "load b", "unload b"]);
  });

  it("a new acquire cancels the idle timer; the next release starts it again", async () => {
    const { residency, clock } = fakeResidency();
    (await residency.acquire("a", { options })).release();
    await clock.advance(4 * MINUTE);
    const job = await residency.acquire("a", { options });
    expect(clock.pending()).toBe(0);
    await clock.advance(10 * MINUTE);
    expect(residency.isLoaded("a")).toBe(true);
    job.release();
    await clock.advance(5 * MINUTE - 1);
    expect(residency.isLoaded("a")).toBe(true);
    await clock.advance(1);
    expect(residency.isLoaded("a")).toBe(false);
  });

  it("`load` on an idle model restarts its idle timer from now", async () => {
    const { residency, clock } = fakeResidency();
    await residency.load("a", { keepAliveMs: MINUTE, options });
    await clock.advance(MINUTE - 10);
    const { loadDurationNs } = await residency.load("a", { keepAliveMs: MINUTE, options });
    expect(loadDurationNs).toBe(0);
    await clock.advance(MINUTE - 1);
    expect(residency.isLoaded("a")).toBe(true);
    await clock.advance(1);
    expect(residency.isLoaded("a")).toBe(false);
  });

  it("release() twice counts once", async () => {
    const { residency, clock } = fakeResidency();
    const first = await residency.acquire("a", { options });
    const second = await residency.acquire("a", { options });
    first.release();
    first.release();
    expect(residency.snapshot()[0]!.busy).toBe(1);
    await clock.advance(60 * MINUTE);
    expect(residency.isLoaded("a")).toBe(true);
    second.release();
    expect(residency.snapshot()[0]!.busy).toBe(0);
  });
});

describe("snapshot: expires_at, last_used_at, busy", () => {
  it("follows the copy through busy, idle, a new keep_alive and forever", async () => {
    const { residency, clock } = fakeResidency();
    const loadedAt = clock.now();
    const job = await residency.acquire("a", { keepAliveMs: 10 * MINUTE, options });
    expect(residency.snapshot()).toEqual([
      {
        model: "a",
        loading: false,
        size_bytes: 100,
        context_length: 2048,
        busy: 1,
        slots: 2,
        keep_alive_ms: 10 * MINUTE,
        expires_at: loadedAt + 10 * MINUTE,
        last_used_at: loadedAt,
      },
    ]);

    expect(() => LoadedCopy.array().parse(residency.snapshot())).not.toThrow();

    // busy: at least keep_alive from now, moving with the clock
    await clock.advance(3 * MINUTE);
    expect(residency.snapshot()[0]!.expires_at).toBe(clock.now() + 10 * MINUTE);

    // idle: fixed at release + keep_alive
    job.release();
    const releasedAt = clock.now();
    await clock.advance(MINUTE);
    expect(residency.snapshot()[0]).toMatchObject({ busy: 0, last_used_at: releasedAt, expires_at: releasedAt + 10 * MINUTE });

    // a `load` with another keep_alive moves it
    await residency.load("a", { keepAliveMs: 2 * MINUTE, options });
    expect(residency.snapshot()[0]).toMatchObject({ keep_alive_ms: 2 * MINUTE, expires_at: clock.now() + 2 * MINUTE });

    // forever: null, busy or not
    await residency.load("a", { keepAliveMs: -1, options });
    expect(residency.snapshot()[0]!.expires_at).toBeNull();
    const again = await residency.acquire("a", { keepAliveMs: -1, options });
    expect(residency.snapshot()[0]).toMatchObject({ busy: 1, expires_at: null });
    again.release();
  });

  it("shows a copy while it loads, with its estimate and the requested context", async () => {
    const { residency, loader, clock } = fakeResidency();
    loader.holdLoads = true;
    loader.sizes.set("a", 300);
    loader.loadedSizes.set("a", 280);
    const pending = residency.acquire("a", { keepAliveMs: MINUTE, options: { num_ctx: 512 } });
    await new Promise((r) => setImmediate(r));
    expect(residency.isLoaded("a")).toBe(false);
    expect(residency.usedBytes()).toBe(300);
    expect(residency.snapshot()).toEqual([
      { model: "a", loading: true, size_bytes: 300, context_length: 512, busy: 1, slots: 0, keep_alive_ms: MINUTE, expires_at: clock.now() + MINUTE, last_used_at: clock.now() },
    ]);
    loader.finishLoad("a");
    const job = await pending;
    expect(job.loadDurationNs).toBe(2_000_000);
    expect(residency.usedBytes()).toBe(280);
    expect(residency.snapshot()[0]).toMatchObject({ loading: false, size_bytes: 280, context_length: 512, slots: 2, busy: 1 });
    job.release();
  });

  it("calls onChange on every change", async () => {
    const { residency, clock, loader } = fakeResidency();
    const job = await residency.acquire("a", { options });
    const afterLoad = loader.changes;
    expect(afterLoad).toBeGreaterThanOrEqual(2); // loading, loaded
    job.release();
    expect(loader.changes).toBe(afterLoad + 1);
    await clock.advance(5 * MINUTE);
    expect(loader.changes).toBe(afterLoad + 3); // unloading, unloaded
  });
});
