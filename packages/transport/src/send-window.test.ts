import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SendWindow } from "./send-window.ts";

/** A window whose sends are counted; `waiting` says whether there is anything to send. */
function counted(windowMs: number, endOfTurn = false) {
  const state = { sends: 0, waiting: true };
  const window = new SendWindow(
    windowMs,
    () => {
      if (!state.waiting) return false;
      state.sends++;
      return true;
    },
    endOfTurn,
  );
  return { state, window };
}

describe("SendWindow", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("sends at once after a quiet window, and what comes within the window once, when it ends", () => {
    const { state, window } = counted(10);
    window.due();
    expect(state.sends).toBe(1); // synchronously
    vi.advanceTimersByTime(3);
    window.due();
    window.due();
    expect(state.sends).toBe(1);
    vi.advanceTimersByTime(6); // t = 9
    expect(state.sends).toBe(1);
    vi.advanceTimersByTime(1); // t = 10: the window since the first send is over
    expect(state.sends).toBe(2);
    vi.advanceTimersByTime(10);
    window.due(); // quiet for a window again
    expect(state.sends).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends what is urgent at once, inside the window, with what waited", () => {
    const { state, window } = counted(10);
    window.due();
    window.due(); // waits for the window
    window.due(true);
    expect(state.sends).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("starts no window with a send of nothing", () => {
    const { state, window } = counted(10);
    state.waiting = false;
    window.flush();
    state.waiting = true;
    window.due();
    expect(state.sends).toBe(1);
  });

  it("with endOfTurn, sends at the end of the current turn instead of inside due()", () => {
    const { state, window } = counted(10, true);
    window.due();
    window.due();
    expect(state.sends).toBe(0);
    vi.advanceTimersByTime(0);
    expect(state.sends).toBe(1);
    window.due(); // within the window: at its end
    window.due(true); // urgent: at the end of this turn after all, once
    vi.advanceTimersByTime(0);
    expect(state.sends).toBe(2);
    vi.advanceTimersByTime(20);
    expect(state.sends).toBe(2);
  });

  it("is quiet when nothing is scheduled and the last send is a window old", () => {
    const { window } = counted(10);
    expect(window.quiet).toBe(true);
    window.due();
    expect(window.quiet).toBe(false);
    window.due();
    vi.advanceTimersByTime(10); // the held send goes
    expect(window.quiet).toBe(false);
    vi.advanceTimersByTime(10);
    expect(window.quiet).toBe(true);
  });
});
