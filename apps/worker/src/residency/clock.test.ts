import { describe, expect, it } from "vitest";
import { atDeadline, MAX_TIMER_DELAY_MS } from "./clock.ts";
import { FakeClock } from "./fake-clock.ts";

describe("FakeClock", () => {
  it("fires a delay past 2^31 − 1 ms after 1 ms, as Node does, so tests catch long keep_alives handed to setTimeout", async () => {
    const clock = new FakeClock();
    let fired = 0;
    clock.setTimeout(() => fired++, MAX_TIMER_DELAY_MS + 1);
    await clock.advance(1);
    expect(fired).toBe(1);
  });

  it("fires timers in due order, each at its own time", async () => {
    const clock = new FakeClock(0);
    const seen: [string, number][] = [];
    clock.setTimeout(() => seen.push(["b", clock.now()]), 20);
    clock.setTimeout(() => seen.push(["a", clock.now()]), 10);
    const c = clock.setTimeout(() => seen.push(["c", clock.now()]), 15);
    clock.clearTimeout(c);
    await clock.advance(30);
    expect(seen).toEqual([["a", 10], ["b", 20]]);
    expect(clock.now()).toBe(30);
  });
});

describe("atDeadline", () => {
  it.each([
    ["short", 5_000],
    ["exactly the longest timer", MAX_TIMER_DELAY_MS],
    ["longer than one timer can wait", MAX_TIMER_DELAY_MS + 1],
    ["several timers long (100 days)", 100 * 24 * 3600 * 1000],
  ])("%s: fires at the deadline, not before", async (_name, delay) => {
    const clock = new FakeClock();
    const deadline = clock.now() + delay;
    let firedAt: number | undefined;
    atDeadline(clock, deadline, () => (firedAt = clock.now()));
    await clock.advance(delay - 1);
    expect(firedAt).toBeUndefined();
    await clock.advance(1);
    expect(firedAt).toBe(deadline);
    expect(clock.pending()).toBe(0);
  });

  it("cancels, also between steps, and cancelling twice is harmless", async () => {
    const clock = new FakeClock();
    let fired = false;
    const cancel = atDeadline(clock, clock.now() + 3 * MAX_TIMER_DELAY_MS, () => (fired = true));
    await clock.advance(MAX_TIMER_DELAY_MS + 10);
    cancel();
    cancel();
    expect(clock.pending()).toBe(0);
    await clock.advance(5 * MAX_TIMER_DELAY_MS);
    expect(fired).toBe(false);
  });
});
