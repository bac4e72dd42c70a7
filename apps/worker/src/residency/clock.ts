/** Time as the residency sees it: the system's in production, a fake one in tests. */
export interface Clock {
  /** epoch ms */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Date.now and Node's timers. The timers are unref'd: an idle model's timer alone does not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Node's longest timer delay; a longer one fires after 1 ms (with a TimeoutOverflowWarning). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `fn` once `clock.now()` reaches `deadline` (epoch ms), however far away it is: waits in
 * steps of at most MAX_TIMER_DELAY_MS (a keep_alive of "720h" is 2.6e9 ms) and checks the clock
 * on every wake-up. Returns a function that cancels it; cancelling twice is harmless.
 */
export function atDeadline(clock: Clock, deadline: number, fn: () => void): () => void {
  let handle: unknown;
  let cancelled = false;
  const arm = () => {
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      handle = undefined;
      fn();
      return;
    }
    handle = clock.setTimeout(arm, Math.min(remaining, MAX_TIMER_DELAY_MS));
  };
  handle = clock.setTimeout(arm, Math.min(Math.max(deadline - clock.now(), 0), MAX_TIMER_DELAY_MS));
  return () => {
    if (cancelled) return;
    cancelled = true;
    if (handle !== undefined) clock.clearTimeout(handle);
    handle = undefined;
  };
}
