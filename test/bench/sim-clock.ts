import type { Clock } from "@caravan/worker";

/**
 * Simulated time for benchmarks that replay traces against caravan's real scheduling code:
 * timers fire in order of due time, and each callback's promise work settles before the next.
 */
export class SimClock implements Clock {
  private time = 0;
  private nextId = 1;
  private timers: Array<{ id: number; due: number; fn: () => void }> = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, due: this.time + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Runs until no timer is left before `until`. */
  async run(until: number): Promise<void> {
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.due - b.due || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.due > until) break;
      this.timers.shift();
      this.time = next.due;
      next.fn();
    }
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
