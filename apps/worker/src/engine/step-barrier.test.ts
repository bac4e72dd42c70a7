import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StepBarrier } from "./step-barrier.ts";

/** `name` arrives and is recorded when the barrier lets it go. */
function arrive(barrier: StepBarrier, name: string, gone: string[]): void {
  const turn = barrier.arrive(sequence(name));
  if (turn === undefined) gone.push(name);
  else void turn.then(() => gone.push(name));
}

const sequences = new Map<string, object>();
const sequence = (name: string) => sequences.get(name) ?? sequences.set(name, { name }).get(name)!;

/** Lets the promises of released arrivals settle. */
const settle = () => vi.advanceTimersByTimeAsync(0);

/** Makes a and b generating sequences of `barrier` (b joins, and goes with a's next arrival). */
async function pairUp(barrier: StepBarrier): Promise<void> {
  const gone: string[] = [];
  arrive(barrier, "a", gone);
  arrive(barrier, "b", gone);
  arrive(barrier, "a", gone);
  await settle();
}

/** a and b take 40 rounds together, each `roundMs` from release to their next arrivals; how many went. */
async function stepTogether(barrier: StepBarrier, roundMs: number): Promise<number> {
  const gone: string[] = [];
  for (let round = 0; round < 40; round++) {
    arrive(barrier, "a", gone);
    arrive(barrier, "b", gone);
    await settle();
    await vi.advanceTimersByTimeAsync(roundMs);
  }
  return gone.length;
}

describe("StepBarrier", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("never holds a sequence that generates alone", () => {
    const barrier = new StepBarrier();
    const gone: string[] = [];
    arrive(barrier, "a", gone);
    arrive(barrier, "a", gone);
    expect(gone).toEqual(["a", "a"]);
    expect(vi.getTimerCount()).toBe(0);
    expect([barrier.rounds, barrier.stepped]).toEqual([2, 2]);
  });

  it("takes in a sequence at its first arrival and lets the generating ones go together once the last has arrived", async () => {
    const barrier = new StepBarrier();
    const gone: string[] = [];
    arrive(barrier, "a", gone); // alone: at once
    arrive(barrier, "b", gone); // a newcomer waits for a's next arrival
    await settle();
    expect(gone).toEqual(["a"]);
    arrive(barrier, "a", gone);
    await settle();
    expect(gone).toEqual(["a", "b", "a"]);
    arrive(barrier, "c", gone);
    arrive(barrier, "a", gone);
    await settle();
    expect(gone).toEqual(["a", "b", "a"]);
    arrive(barrier, "b", gone);
    await settle();
    expect(gone).toEqual(["a", "b", "a", "c", "a", "b"]);
    expect([barrier.rounds, barrier.stepped]).toEqual([3, 6]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not wait for a sequence whose generation ended", async () => {
    const barrier = new StepBarrier();
    await pairUp(barrier);
    const gone: string[] = [];
    arrive(barrier, "a", gone);
    await settle();
    expect(gone).toEqual([]);
    barrier.leave(sequence("b"));
    await settle();
    expect(gone).toEqual(["a"]);
    arrive(barrier, "a", gone); // alone again
    expect(gone).toEqual(["a", "a"]);
  });

  it("holds the arrived for at most twice a round's time when one is late", async () => {
    const barrier = new StepBarrier();
    // Rounds that take 10 ms from release to the next arrival (a slow model's decode and sampling).
    expect(await stepTogether(barrier, 10)).toBe(80);
    const gone: string[] = [];
    arrive(barrier, "a", gone); // b is late
    await vi.advanceTimersByTimeAsync(15);
    expect(gone).toEqual([]); // still inside two rounds' time: b may yet come and join
    await vi.advanceTimersByTimeAsync(6);
    expect(gone).toEqual(["a"]);
  });

  it("waits at least 1 ms and at most 50 ms for a late sequence", async () => {
    const fast = new StepBarrier();
    await pairUp(fast);
    const gone: string[] = [];
    arrive(fast, "a", gone); // rounds so far took no time at all
    await vi.advanceTimersByTimeAsync(0.9);
    expect(gone).toEqual([]);
    await vi.advanceTimersByTimeAsync(0.2);
    expect(gone).toEqual(["a"]);

    const slow = new StepBarrier();
    expect(await stepTogether(slow, 200)).toBe(80); // a 200 ms step
    gone.length = 0;
    arrive(slow, "a", gone);
    await vi.advanceTimersByTimeAsync(49);
    expect(gone).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(gone).toEqual(["a"]);
  });
});
