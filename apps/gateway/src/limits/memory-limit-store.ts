import { FAIR_TTL_MS, LEASE_STALE_MS, MAX_TAG, retryAfterS, windowOf, type LimitStore, type Quota, type Verdict } from "./limit-store.ts";

interface KeyState {
  leases: Map<string, number>;
  requests: Map<number, number>;
  tokens: Map<number, number>;
}

interface FairState {
  virtual: number;
  finish: Map<string, number>;
  waiting: number;
  touched: number;
}

/** LimitStore of one process (`pnpm start`): the same rules as the Redis one, in maps. */
export class MemoryLimitStore implements LimitStore {
  private readonly keys = new Map<string, KeyState>();
  private readonly fair = new Map<string, FairState>();

  async acquire(keyId: string, quota: Quota, leaseId: string, now = Date.now()): Promise<Verdict> {
    const state = this.key(keyId);
    for (const [id, at] of state.leases) if (at < now - LEASE_STALE_MS) state.leases.delete(id);
    if (quota.maxConcurrent > 0 && state.leases.size >= quota.maxConcurrent) return { ok: false, limit: "concurrency", retryAfterS: 1 };
    const { current, previousWeight } = windowOf(now);
    for (const [limit, counts, name] of [[quota.rpm, state.requests, "rpm"], [quota.tpm, state.tokens, "tpm"]] as const) {
      const cur = counts.get(current) ?? 0;
      const prev = counts.get(current - 1) ?? 0;
      if (limit > 0 && cur + prev * previousWeight >= limit) return { ok: false, limit: name, retryAfterS: retryAfterS(limit, cur, prev, now) };
    }
    state.leases.set(leaseId, now);
    add(state.requests, current, 1);
    return { ok: true };
  }

  async release(keyId: string, leaseId: string): Promise<void> {
    this.keys.get(keyId)?.leases.delete(leaseId);
  }

  async charge(keyId: string, tokens: number, now = Date.now()): Promise<void> {
    if (tokens > 0) add(this.key(keyId).tokens, windowOf(now).current, tokens);
  }

  async fairEnter(model: string, keyId: string): Promise<number> {
    const now = Date.now();
    let state = this.fair.get(model);
    if (!state || now - state.touched > FAIR_TTL_MS) this.fair.set(model, (state = { virtual: 0, finish: new Map(), waiting: 0, touched: now }));
    const tag = Math.max(state.virtual, state.finish.get(keyId) ?? 0) + 1;
    state.finish.set(keyId, tag);
    state.waiting++;
    state.touched = now;
    return Math.min(tag, MAX_TAG);
  }

  async fairLeave(model: string, tag: number, started: boolean): Promise<void> {
    const state = this.fair.get(model);
    if (!state) return;
    if (--state.waiting <= 0) {
      this.fair.delete(model);
      return;
    }
    if (started && tag > state.virtual) state.virtual = tag;
  }

  async close(): Promise<void> {}

  private key(keyId: string): KeyState {
    let state = this.keys.get(keyId);
    if (!state) this.keys.set(keyId, (state = { leases: new Map(), requests: new Map(), tokens: new Map() }));
    return state;
  }
}

/** Adds to a window's count and forgets windows too old to matter. */
function add(counts: Map<number, number>, window: number, n: number): void {
  counts.set(window, (counts.get(window) ?? 0) + n);
  for (const w of counts.keys()) if (w < window - 1) counts.delete(w);
}
