/**
 * Which loaded model gives way for a load: one rule for the worker, which evicts (residency), and
 * for the gateway, which predicts what a worker would evict when it picks where to load
 * (placement). Pure: no I/O, no clock.
 */

/** A model that holds (or is about to hold) memory, as the eviction planner sees it. */
export interface Occupant {
  model: string;
  /** bytes it holds: the measured figure once loaded, the estimate while loading */
  bytes: number;
  /** loaded with no requests: may be evicted */
  idle: boolean;
  /** sticky keep_alive in ms; negative = forever */
  keepAliveMs: number;
  /** epoch ms */
  lastUsedAt: number;
}

export interface RoomLimits {
  maxLoadedModels: number;
  memoryBudgetBytes: number;
}

export interface RoomPlan {
  /** models to unload first, in eviction order */
  evict: string[];
  /** budget left once they are gone and the model is loaded, bytes */
  freeBytes: number;
}

/**
 * Ollama's eviction order: the idle model with the shortest keep_alive goes first (forever counts
 * as longest), then the least recently used, then by name (so every gateway predicts the same).
 */
export function evictionOrder(a: Occupant, b: Occupant): number {
  const keep = (o: Occupant) => (o.keepAliveMs < 0 ? Number.POSITIVE_INFINITY : o.keepAliveMs);
  return keep(a) - keep(b) || a.lastUsedAt - b.lastUsedAt || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0);
}

/**
 * What must go for a model of `needBytes` to load beside `occupants` (loaded and loading models),
 * or undefined when even evicting every idle model is not enough. Evicts idle models in
 * eviction order, only as many as needed. A model larger than the whole budget never fits: the
 * budget is what keeps one load from taking the machine down. `usedBytes`: memory held now, when
 * it is more than the occupants' (copies still being unloaded hold theirs until they are gone).
 */
export function planRoom(occupants: readonly Occupant[], needBytes: number, limits: RoomLimits, usedBytes?: number): RoomPlan | undefined {
  const candidates = occupants.filter((o) => o.idle).sort(evictionOrder);
  const evict: string[] = [];
  let count = occupants.length;
  let bytes = usedBytes ?? occupants.reduce((sum, o) => sum + o.bytes, 0);
  for (;;) {
    const freeBytes = limits.memoryBudgetBytes - bytes - needBytes;
    if (count + 1 <= limits.maxLoadedModels && freeBytes >= 0) return { evict, freeBytes };
    const victim = candidates.shift();
    if (!victim) return undefined;
    evict.push(victim.model);
    count -= 1;
    bytes -= victim.bytes;
  }
}
