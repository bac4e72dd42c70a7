import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StepClock } from "./step-clock.ts";

describe("StepClock", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("wakes every stream waiting for a step with one timer, when the step comes", () => {
    const clock = new StepClock(20);
    const woken: string[] = [];
    vi.advanceTimersByTime(5); // streams start between steps
    clock.at(1, () => woken.push("a"));
    vi.advanceTimersByTime(7);
    clock.at(1, () => woken.push("b"));
    clock.at(2, () => woken.push("c"));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(7); // t = 19
    expect(woken).toEqual([]);
    vi.advanceTimersByTime(1); // t = 20: step 1
    expect(woken).toEqual(["a", "b"]);
    vi.advanceTimersByTime(20); // t = 40: step 2
    expect(woken).toEqual(["a", "b", "c"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("gives a step already past at once, so a late stream catches up instead of slowing", () => {
    const clock = new StepClock(10);
    vi.advanceTimersByTime(35);
    expect(clock.current()).toBe(3);
    const woken: number[] = [];
    for (const step of [2, 3, 4]) clock.at(step, () => woken.push(step));
    expect(woken).toEqual([2, 3]);
    vi.advanceTimersByTime(5);
    expect(woken).toEqual([2, 3, 4]);
  });

  it("forgets a cancelled waiter and stops its timer when nobody waits", () => {
    const clock = new StepClock(10);
    const woken: string[] = [];
    const a = clock.at(1, () => woken.push("a"));
    clock.at(1, () => woken.push("b"));
    a.cancel();
    vi.advanceTimersByTime(10);
    expect(woken).toEqual(["b"]);
    const c = clock.at(5, () => woken.push("c"));
    c.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });
});
