import type { WorkerState } from "@caravan/protocol";
import { badRequest, HttpError } from "../errors.ts";

/** Workers that advertise no folder id (a read-only folder) count as having a folder of their own. */
export const folderOf = (worker: WorkerState): string => worker.models_folder_id ?? `worker:${worker.worker_id}`;

/**
 * One worker per models folder: workers sharing a folder must not download, delete or copy the
 * same file twice. Prefers a worker that is not draining, then the least busy; sorted by id.
 */
export function onePerFolder(workers: readonly WorkerState[]): WorkerState[] {
  const chosen = new Map<string, WorkerState>();
  for (const worker of workers) {
    const folder = folderOf(worker);
    const current = chosen.get(folder);
    if (!current || better(worker, current)) chosen.set(folder, worker);
  }
  return [...chosen.values()].sort((a, b) => a.worker_id.localeCompare(b.worker_id));
}

const better = (a: WorkerState, b: WorkerState): boolean => (a.draining !== b.draining ? !a.draining : a.busy < b.busy);

/**
 * Where a pull goes: every live worker that is not draining, or only the ones named (an unknown or
 * draining name is a 400), one per folder. None at all is a 503.
 */
export function pullTargets(workers: readonly WorkerState[], named?: readonly string[]): WorkerState[] {
  const live = workers.filter((worker) => !worker.draining);
  let candidates = live;
  if (named !== undefined) {
    const ids = new Set(live.map((worker) => worker.worker_id));
    const unknown = named.filter((id) => !ids.has(id));
    if (unknown.length > 0) {
      throw badRequest(`unknown or draining worker${unknown.length > 1 ? "s" : ""} ${unknown.map((id) => `'${id}'`).join(", ")}; live workers: ${[...ids].sort().join(", ") || "none"}`);
    }
    if (named.length === 0) throw badRequest("workers must name at least one worker");
    candidates = live.filter((worker) => named.includes(worker.worker_id));
  }
  if (candidates.length === 0) throw new HttpError(503, "unavailable", "no live worker to pull on");
  return onePerFolder(candidates);
}

/** Live workers that serve `model` (canonical name). */
export const holdersOf = (workers: readonly WorkerState[], model: string): WorkerState[] => workers.filter((worker) => worker.models.some((m) => m.name === model));
