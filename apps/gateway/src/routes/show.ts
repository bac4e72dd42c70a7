import { randomUUID } from "node:crypto";
import { canonicalModelName, ShowRequest, WIRE_VERSION, type ShowInfo, type WorkerState } from "@caravan/protocol";
import { readBody } from "../body.ts";
import type { GatewayApp, GatewayDeps } from "../deps.ts";
import { HttpError, modelNotFound } from "../errors.ts";
import { workersForModel } from "../models.ts";

/** How long one worker may take to describe a model (it reads the file's header, vocabulary included). */
const SHOW_TIMEOUT_MS = 15_000;

/**
 * POST /api/show: a worker that has the model describes it from the file (nothing is loaded).
 * If that worker fails, the next one is asked.
 */
export function registerShowRoute(app: GatewayApp, deps: GatewayDeps): void {
  app.post("/api/show", async (c) => {
    const { body } = await readBody(c, ShowRequest);
    return c.json(await showModel(deps, body.model, body.verbose));
  });
}

async function showModel(deps: GatewayDeps, requested: string, verbose: boolean): Promise<ShowInfo> {
  const model = canonicalModelName(requested);
  const candidates = workersWith(await workersForModel(deps.transport, model), model);
  if (candidates.length === 0) throw modelNotFound(requested);
  const failures: string[] = [];
  for (const worker of candidates) {
    try {
      const reply = await deps.transport.command(worker.worker_id, { v: WIRE_VERSION, type: "show", id: randomUUID(), model, verbose }, SHOW_TIMEOUT_MS);
      if (reply.ok && reply.show) return reply.show;
      failures.push(`${worker.worker_id}: ${reply.message ?? reply.code ?? "no answer"}`);
    } catch (error) {
      failures.push(`${worker.worker_id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  deps.log.warn({ model, failures }, "no worker could describe the model");
  throw new HttpError(503, "unavailable", `no worker could describe model '${requested}' (${failures.join("; ")})`);
}

/** Live workers that have `model`, the ones taking work first, then the least busy. */
function workersWith(workers: readonly WorkerState[], model: string): WorkerState[] {
  return workers
    .filter((worker) => worker.models.some((m) => m.name === model))
    .sort((a, b) => Number(a.draining) - Number(b.draining) || a.busy - b.busy);
}
