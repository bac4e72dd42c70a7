/** One key's limits; 0 = unlimited. */
export interface Quota {
  maxConcurrent: number;
  rpm: number;
  tpm: number;
}

export type Verdict = { ok: true } | { ok: false; limit: "concurrency" | "rpm" | "tpm"; retryAfterS: number };

/**
 * The counters behind per-key limits and fair share, kept where every gateway sees them: in
 * Redis for a cluster (one Lua script per decision, so the bounds hold however many gateways
 * decide at once), in memory for one process. `now` is injectable for tests.
 */
export interface LimitStore {
  /**
   * Takes one of the key's concurrent slots (as `leaseId`) and counts one request, unless the key
   * is at its concurrency, its requests per minute, or past its tokens per minute.
   */
  acquire(keyId: string, quota: Quota, leaseId: string, now?: number): Promise<Verdict>;
  /** gives the slot back; safe to call twice */
  release(keyId: string, leaseId: string): Promise<void>;
  /** counts tokens a finished request used against the key's tokens per minute */
  charge(keyId: string, tokens: number, now?: number): Promise<void>;
  /** a job of `keyId` joins `model`'s queue: its fair-share tag (a BullMQ priority, 1 = first) */
  fairEnter(model: string, keyId: string): Promise<number>;
  /** the job left the queue: `started` by a worker, or given up */
  fairLeave(model: string, tag: number, started: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Minute windows, weighted: the previous minute counts for the part of it still inside the last 60 s. */
export const WINDOW_MS = 60_000;
/** A gateway that died holding a slot: the slot frees itself after this long. */
export const LEASE_STALE_MS = 10 * 60_000;
/** BullMQ's lowest priority; a tag past it is clamped (fairness degrades to arrival order). */
export const MAX_TAG = 2_097_152;
/** An idle model's fair-share state is forgotten after this long (a crashed gateway's leftovers). */
export const FAIR_TTL_MS = 10 * 60_000;

export function windowOf(now: number): { current: number; previousWeight: number; elapsed: number } {
  const elapsed = now % WINDOW_MS;
  return { current: Math.floor(now / WINDOW_MS), previousWeight: 1 - elapsed / WINDOW_MS, elapsed };
}

/** Seconds until the weighted count (current + previous × weight) is back under `limit`. */
export function retryAfterS(limit: number, current: number, previous: number, now: number): number {
  const { elapsed } = windowOf(now);
  let waitMs: number;
  if (current >= limit) {
    // Not before the next window; then the current one counts as "previous" and decays.
    const fraction = current === 0 ? 0 : Math.max(0, 1 - limit / current);
    waitMs = WINDOW_MS - elapsed + fraction * WINDOW_MS;
  } else {
    const fraction = previous === 0 ? 0 : Math.max(0, 1 - (limit - current) / previous);
    waitMs = fraction * WINDOW_MS - elapsed;
  }
  // +1 ms: the count must fall strictly under the limit, not onto it
  return Math.max(1, Math.ceil((waitMs + 1) / 1000));
}
