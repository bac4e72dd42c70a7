import { MAX_TIMER_DELAY_MS, type Clock } from "./clock.ts";

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A clock for unit tests only: time moves when the test calls `advance`. Timers behave like
 * Node's, overflow included: a delay below 1 ms or above 2^31 − 1 ms fires after 1 ms, so a
 * test catches code that hands setTimeout a long keep_alive as is.
 */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const delay = !(ms >= 1 && ms <= MAX_TIMER_DELAY_MS) ? 1 : ms;
    const timer = { id: this.nextId++, due: this.time + delay, fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** timers armed and not yet fired or cleared */
  pending(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in order, each at
   * its own time, and lets the promise callbacks it started run before the next one.
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.due <= end).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.due;
      next.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets every pending promise callback run (a macrotask turn drains the microtask queue). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
