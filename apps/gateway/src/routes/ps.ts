import type { LoadedCopy, ListedModel, WorkerState } from "@caravan/protocol";
import type { GatewayApp, GatewayDeps } from "../deps.ts";

/** Ollama prints "forever" as the far end of a Go duration: now + 2^63−1 ns (about 292 years). */
const FOREVER_MS = Number(2n ** 63n / 1_000_000n);

/**
 * GET /api/ps: every loaded copy in the cluster with Ollama's fields, plus caravan's own:
 * which worker holds it and how busy it is; and `queues`, the waiting requests per model.
 */
export function registerPsRoute(app: GatewayApp, deps: GatewayDeps): void {
  app.get("/api/ps", async (c) => {
    // Read now, not the transport's remembered view: a worker publishes its state before a job's
    // done, so a client's ps right after its request shows that request's keep_alive.
    const [workers, queues] = await Promise.all([deps.transport.refreshWorkers(), deps.transport.queueStats()]);
    const now = Date.now();
    const models = workers
      .flatMap((worker) => worker.loaded.filter((copy) => !copy.loading).map((copy) => psEntry(worker, copy, now)))
      .sort((a, b) => a.name.localeCompare(b.name) || a.worker.localeCompare(b.worker));
    return c.json({
      models,
      queues: queues
        .map((q) => ({ model: q.model, waiting: q.waiting, oldest_wait_ms: Math.max(0, now - q.oldestAdmittedAt) }))
        .sort((a, b) => a.model.localeCompare(b.model)),
    });
  });
}

function psEntry(worker: WorkerState, copy: LoadedCopy, now: number) {
  const listed: ListedModel | undefined = worker.models.find((m) => m.name === copy.model);
  return {
    name: copy.model,
    model: copy.model,
    size: copy.size_bytes,
    digest: listed?.digest ?? "",
    details: listed?.details,
    expires_at: new Date(copy.expires_at ?? now + FOREVER_MS).toISOString(),
    size_vram: worker.gpu ? copy.size_bytes : 0,
    context_length: copy.context_length,
    // caravan's own
    worker: worker.worker_id,
    /** "llama", or "simulated" for a load-test worker */
    engine: worker.engine,
    busy: copy.busy,
    slots: copy.slots,
  };
}
