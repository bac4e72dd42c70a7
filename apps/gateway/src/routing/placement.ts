import { planRoom, type LoadedCopy, type Occupant, type WorkerState } from "@caravan/protocol";

/**
 * Placement: where (if anywhere) a model must be loaded so that its waiting jobs can run.
 * A pure function over a snapshot of live workers, in the llm-d shape: filter, then score, then
 * pick. No I/O; the caller sends the load command and enqueues the job.
 *
 * Rules:
 * 1. Filter: candidates are the workers that are not draining and have the model on disk
 *    (`models`).
 * 2. No candidate → `unavailable`.
 * 3. Copies are the candidates holding a copy of the model (loaded or loading), plus the
 *    `pendingLoads` workers (loads this gateway asked for that no heartbeat shows yet). With copies:
 *    capacity = Σ free sequences (slots − busy) of loaded copies + slots of loading/pending ones.
 *    If waiting ≤ capacity + spillBacklog × copies → `enqueue` ("warm", or "loading" while no
 *    copy is loaded yet). Otherwise spill: pick among candidates without a copy (rule 6); one that
 *    can take it (rule 5) → `load` ("spill"), none → `enqueue` ("saturated").
 * 4. No copies → cold: pick among all candidates; none can take it → `wait`.
 * 5. A worker can take the model when, after evicting idle copies (busy 0, not loading) in the
 *    worker's own order (planRoom in @caravan/protocol: shortest keep_alive first, forever last,
 *    then least recently used), it holds fewer than max_loaded_models and memory_used + need ≤
 *    memory_budget. `evicts` names exactly
 *    the copies needed, in that order. A worker with nothing loaded can always take it (its budget
 *    may be an estimate; the worker refuses if the model truly cannot fit). `need` is the
 *    size_bytes of an existing copy anywhere in the cluster, else the file size on that worker
 *    (a lower bound: the KV cache comes on top).
 * 6. Pick: fewest evictions (none best), then fewest busy sequences, then most memory free after
 *    the load, then worker_id (lexicographic) — deterministic, so gateways agree.
 *
 * Copies on draining workers serve no new jobs, so they count as no capacity; their size_bytes is
 * still a fair measurement for `need`.
 */

export interface PlacementInput {
  /** canonical name, e.g. "stories260k:latest" */
  model: string;
  /** jobs waiting in this model's queue (not yet taken by a worker), the new one included */
  waiting: number;
  /** ms the oldest waiting job has waited */
  oldestWaitMs: number;
  /** live workers (heartbeat not expired) */
  workers: readonly WorkerState[];
  /** the backlog per warm copy above which a second copy is loaded elsewhere */
  spillBacklog: number;
  /** copies requested recently but not yet visible in worker state: model loads in flight by this gateway, by worker id */
  pendingLoads?: readonly string[];
}

export type Placement =
  | { action: "enqueue"; reason: "warm" | "loading" | "saturated" }
  | { action: "load"; workerId: string; evicts: string[]; reason: "cold" | "spill" }
  | { action: "wait"; reason: string }
  | { action: "unavailable"; reason: string };

/** Whether a worker could take a load, and what it would evict for it. */
export type Take = { ok: true; evicts: string[]; freeAfter: number } | { ok: false };

/** A worker that can take the load, with what the pick compares. */
export interface Offer {
  workerId: string;
  evicts: string[];
  /** busy sequences on the worker now */
  busy: number;
  /** memory budget left after evictions and the load, bytes */
  freeAfter: number;
}

/** The capacity a set of copies gives a model's queue. */
export interface CopySummary {
  /** workers holding or about to hold a copy */
  workerIds: Set<string>;
  /** sequences free now or on their way */
  capacity: number;
  /** at least one copy is loaded (not loading, not pending) */
  anyLoaded: boolean;
}

// ---- filter ----

export function hasOnDisk(worker: WorkerState, model: string): boolean {
  return worker.models.some((m) => m.name === model || m.model === model);
}

/** Rule 1: live workers that may load the model. */
export function filterCandidates(workers: readonly WorkerState[], model: string): WorkerState[] {
  return workers.filter((w) => !w.draining && hasOnDisk(w, model));
}

export function findCopy(worker: WorkerState, model: string): LoadedCopy | undefined {
  return worker.loaded.find((c) => c.model === model);
}

// ---- warm capacity ----

function copyCapacity(copy: LoadedCopy): number {
  return copy.loading ? copy.slots : Math.max(0, copy.slots - copy.busy);
}

/** Rule 3: copies among candidates plus pending loads; a pending load on a worker that already shows a copy is that copy. */
export function summarizeCopies(candidates: readonly WorkerState[], model: string, pendingLoads: readonly string[] = []): CopySummary {
  const summary: CopySummary = { workerIds: new Set(), capacity: 0, anyLoaded: false };
  for (const w of candidates) {
    const copy = findCopy(w, model);
    if (copy) {
      summary.workerIds.add(w.worker_id);
      summary.capacity += copyCapacity(copy);
      summary.anyLoaded ||= !copy.loading;
    } else if (pendingLoads.includes(w.worker_id)) {
      summary.workerIds.add(w.worker_id);
      summary.capacity += w.num_parallel;
    }
  }
  return summary;
}

/** Rule 3: whether the warm (and coming) copies absorb the backlog. */
export function absorbs(summary: CopySummary, waiting: number, spillBacklog: number): boolean {
  return waiting <= summary.capacity + spillBacklog * summary.workerIds.size;
}

// ---- can a worker take it ----

/** Bytes a new copy will hold: a measured copy (a loaded one before a loading one, the largest), else the file size. */
export function needBytes(workers: readonly WorkerState[], worker: WorkerState, model: string): number {
  const copies = workers.flatMap((w) => w.loaded.filter((c) => c.model === model));
  const settled = copies.filter((c) => !c.loading);
  const measured = settled.length > 0 ? settled : copies;
  if (measured.length > 0) return Math.max(...measured.map((c) => c.size_bytes));
  return worker.models.find((m) => m.name === model || m.model === model)?.size ?? 0;
}

/** A worker's copy as the shared eviction rule sees it: only a loaded copy with no requests may go. */
function occupant(copy: LoadedCopy): Occupant {
  return { model: copy.model, bytes: copy.size_bytes, idle: copy.busy === 0 && !copy.loading, keepAliveMs: copy.keep_alive_ms, lastUsedAt: copy.last_used_at };
}

/**
 * Rule 5: whether `worker` can load a model of `need` bytes, evicting as few idle copies as it
 * must, in the order the worker itself evicts them (planRoom, shared with its residency).
 */
export function canTake(worker: WorkerState, need: number): Take {
  if (worker.loaded.length === 0) return { ok: true, evicts: [], freeAfter: worker.memory_budget_bytes - worker.memory_used_bytes - need };
  const plan = planRoom(worker.loaded.map(occupant), need, { maxLoadedModels: worker.max_loaded_models, memoryBudgetBytes: worker.memory_budget_bytes }, worker.memory_used_bytes);
  return plan ? { ok: true, evicts: plan.evict, freeAfter: plan.freeBytes } : { ok: false };
}

// ---- score and pick ----

function byWorkerId(a: Offer, b: Offer): number {
  return a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0;
}

/** Rule 6: negative when `a` is the better place. */
export function compareOffers(a: Offer, b: Offer): number {
  return a.evicts.length - b.evicts.length || a.busy - b.busy || b.freeAfter - a.freeAfter || byWorkerId(a, b);
}

export function offer(worker: WorkerState, need: number): Offer | undefined {
  const take = canTake(worker, need);
  if (!take.ok) return undefined;
  return { workerId: worker.worker_id, evicts: take.evicts, busy: worker.busy, freeAfter: take.freeAfter };
}

/** The best worker among `pool` to load the model on, or undefined when none can take it. */
export function pickWorker(pool: readonly WorkerState[], workers: readonly WorkerState[], model: string): Offer | undefined {
  const offers = pool.flatMap((w) => offer(w, needBytes(workers, w, model)) ?? []);
  return offers.sort(compareOffers)[0];
}

// ---- place ----

export function place(input: PlacementInput): Placement {
  const { model, workers } = input;
  const candidates = filterCandidates(workers, model);
  if (candidates.length === 0) return { action: "unavailable", reason: `no live worker has ${model}` };
  const copies = summarizeCopies(candidates, model, input.pendingLoads);
  if (copies.workerIds.size === 0) return cold(candidates, workers, model);
  if (absorbs(copies, input.waiting, input.spillBacklog)) return { action: "enqueue", reason: copies.anyLoaded ? "warm" : "loading" };
  const spare = candidates.filter((w) => !copies.workerIds.has(w.worker_id));
  const best = pickWorker(spare, workers, model);
  return best ? { action: "load", workerId: best.workerId, evicts: best.evicts, reason: "spill" } : { action: "enqueue", reason: "saturated" };
}

function cold(candidates: readonly WorkerState[], workers: readonly WorkerState[], model: string): Placement {
  const best = pickWorker(candidates, workers, model);
  if (best) return { action: "load", workerId: best.workerId, evicts: best.evicts, reason: "cold" };
  return { action: "wait", reason: `${model} is on ${candidates.length} worker(s), none with room beside busy models` };
}
