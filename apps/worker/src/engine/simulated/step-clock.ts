/**
 * The decode clock of one simulated model. A batching engine (llama.cpp with parallel
 * sequences, vLLM) runs one forward pass per step and every running sequence gets its next token
 * from it, so the tokens of all of a model's streams appear together, once per step. The
 * simulation does the same: steps fall every `intervalMs` from the clock's creation, and a stream
 * waits for the step its next token is due at. One timer per step serves every stream, where a
 * timer per stream woke the worker once per token (~800 times a second at 16 streams), and on a
 * shared VM those wake-ups cost more than the work the simulation is there to measure.
 *
 * Steps are absolute: a stream that asks for a step already past gets it at once, so a late
 * timer delays tokens but does not lower the rate. `phaseMs` shifts the steps, so that clocks
 * standing for different GPUs do not step in unison.
 */
export class StepClock {
  private readonly epoch: number;
  /** streams decoding on this clock (the engine's to count; it places new streams by it) */
  running = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(
    private readonly intervalMs: number,
    phaseMs = 0,
  ) {
    this.epoch = performance.now() + phaseMs;
  }

  /** The index of the step most recently reached. */
  current(): number {
    return Math.floor((performance.now() - this.epoch) / this.intervalMs);
  }

  /** Calls `wake` once step `step` is reached (at once if it has been); cancel() stops that. */
  at(step: number, wake: () => void): { cancel(): void } {
    if (step <= this.current()) {
      wake();
      return { cancel: () => {} };
    }
    const waiter: Waiter = { step, wake };
    this.waiters.push(waiter);
    if (step < this.armedFor) this.arm(step);
    return {
      cancel: () => {
        const at = this.waiters.indexOf(waiter);
        if (at !== -1) this.waiters.splice(at, 1);
        if (this.waiters.length === 0) this.disarm();
      },
    };
  }

  private arm(step: number): void {
    clearTimeout(this.timer);
    this.armedFor = step;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.epoch + step * this.intervalMs - performance.now()));
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private tick(): void {
    this.disarm();
    const now = this.current();
    const due = this.waiters.filter((w) => w.step <= now);
    // A timer can fire a hair early against performance.now(): re-arm instead of waking nobody.
    this.waiters = due.length === 0 ? this.waiters : this.waiters.filter((w) => w.step > now);
    for (const waiter of due) waiter.wake();
    if (this.waiters.length > 0) this.arm(Math.min(...this.waiters.map((w) => w.step)));
  }
}

interface Waiter {
  step: number;
  wake: () => void;
}
