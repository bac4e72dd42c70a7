import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StepBarrier } from "./step-barrier.ts";

/** Arrives and records when the barrier lets this sequence go. */
function arrive(barrier: StepBarrier, name: string, gone: string[]): void {
  const turn = barrier.arrive();
  if (turn === undefined) gone.push(name);
  else void turn.then(() => gone.push(name));
}

/** Lets the promises of released arrivals settle. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("StepBarrier", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("never holds a sequence that generates alone", () => {
    const barrier = new StepBarrier();
    barrier.join();
    expect(barrier.arrive()).toBeUndefined();
    expect(barrier.arrive()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    expect([barrier.rounds, barrier.stepped]).toEqual([2, 2]);
  });

  it("lets every generating sequence go together once the last has arrived", async () => {
    const barrier = new StepBarrier();
    for (let i = 0; i < 3; i++) barrier.join();
    const gone: string[] = [];
    arrive(barrier, "a", gone);
    arrive(barrier, "b", gone);
    await settle();
    expect(gone).toEqual([]);
    arrive(barrier, "c", gone);
    await settle();
    expect(gone).toEqual(["a", "b", "c"]);
    expect([barrier.rounds, barrier.stepped]).toEqual([1, 3]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not wait for a sequence that stopped generating", async () => {
    const barrier = new StepBarrier();
    for (let i = 0; i < 3; i++) barrier.join();
    const gone: string[] = [];
    arrive(barrier, "a", gone);
    arrive(barrier, "b", gone);
    barrier.leave();
    await settle();
    expect(gone).toEqual(["a", "b"]);
    // the two left go together from now on
    arrive(barrier, "a", gone);
    await settle();
    expect(gone).toEqual(["a", "b"]);
    arrive(barrier, "b", gone);
    await settle();
    expect(gone).toEqual(["a", "b", "a", "b"]);
  });

  it("holds the arrived for at most twice a round's time when one is late", async () => {
    const barrier = new StepBarrier();
    barrier.join();
    barrier.join();
    // Rounds that take 10 ms from release to the next arrival (a slow model's decode and sampling).
    const gone: string[] = [];
    for (let round = 0; round < 40; round++) {
      arrive(barrier, "a", gone);
      arrive(barrier, "b", gone);
      await settle();
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(gone).toHaveLength(80);
    gone.length = 0;
    arrive(barrier, "a", gone); // b is late
    await vi.advanceTimersByTimeAsync(15);
    expect(gone).toEqual([]); // still inside two rounds' time: b may yet come and join
    await vi.advanceTimersByTimeAsync(6);
    expect(gone).toEqual(["a"]);
  });

  it("waits at least 1 ms and at most 50 ms for a late sequence", async () => {
    const fast = new StepBarrier();
    fast.join();
    fast.join();
    const gone: string[] = [];
    arrive(fast, "a", gone);
    await vi.advanceTimersByTimeAsync(1.9);
    expect(gone).toEqual([]);
    await vi.advanceTimersByTimeAsync(0.2);
    expect(gone).toEqual(["a"]);

    const slow = new StepBarrier();
    slow.join();
    slow.join();
    for (let round = 0; round < 40; round++) {
      arrive(slow, "a", gone);
      arrive(slow, "b", gone);
      await settle();
      await vi.advanceTimersByTimeAsync(200); // a 200 ms step
    }
    gone.length = 0;
    arrive(slow, "a", gone);
    await vi.advanceTimersByTimeAsync(49);
    expect(gone).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(gone).toEqual(["a"]);
  });
});
