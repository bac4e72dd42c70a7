import { randomUUID } from "node:crypto";
import { canonicalModelName, DeleteRequest, WIRE_VERSION } from "@caravan/protocol";
import { readBody } from "../body.ts";
import type { GatewayApp, GatewayDeps } from "../deps.ts";
import { HttpError, modelNotFound } from "../errors.ts";
import { holdersOf, onePerFolder } from "../manage/folders.ts";
import { workersForModel } from "../models.ts";

/** Unloading waits for nothing (busy models are refused first) but may free a large model. */
const DELETE_TIMEOUT_MS = 60_000;

/**
 * DELETE /api/delete: every worker that has the model removes its file, one per models folder,
 * after the others sharing that folder have unloaded it. A model with requests running or waiting
 * is refused with a 409 rather than waited for: a long generation would hold the DELETE for
 * minutes, and the client can try again. 200 with an empty body, as Ollama answers.
 */
export function registerDeleteRoute(app: GatewayApp, deps: GatewayDeps): void {
  app.delete("/api/delete", async (c) => {
    const { body } = await readBody(c, DeleteRequest);
    const model = canonicalModelName(body.model);
    const [workers, queues] = await Promise.all([workersForModel(deps.transport, model), deps.transport.queueStats()]);
    const holders = holdersOf(workers, model);
    if (holders.length === 0) throw modelNotFound(body.model);
    const running = workers.reduce((sum, worker) => sum + worker.loaded.filter((copy) => copy.model === model).reduce((n, copy) => n + copy.busy, 0), 0);
    const waiting = queues.find((queue) => queue.model === model)?.waiting ?? 0;
    if (running + waiting > 0) throw busy(body.model, `${running} running, ${waiting} waiting`);

    const deleters = onePerFolder(holders);
    const send = async (workerId: string, type: "unload" | "delete") => {
      try {
        return await deps.transport.command(workerId, { v: WIRE_VERSION, type, id: randomUUID(), model }, DELETE_TIMEOUT_MS);
      } catch (error) {
        return { ok: false, code: "failed" as const, message: `${workerId}: ${error instanceof Error ? error.message : String(error)}`, worker_id: workerId };
      }
    };
    // A worker whose folder another worker deletes from must not keep serving the model.
    await Promise.all(holders.filter((worker) => !deleters.includes(worker)).map((worker) => send(worker.worker_id, "unload")));
    const replies = await Promise.all(deleters.map((worker) => send(worker.worker_id, "delete")));
    const refused = replies.filter((reply) => !reply.ok && reply.code !== "model_not_found");
    const busyReply = refused.find((reply) => reply.code === "busy");
    if (busyReply) throw busy(body.model, busyReply.message ?? "in use");
    if (refused.length > 0) throw new HttpError(500, "delete_failed", refused.map((reply) => reply.message ?? reply.code).join("; "));
    if (!replies.some((reply) => reply.ok)) throw modelNotFound(body.model);
    deps.log.info({ model, workers: deleters.map((w) => w.worker_id) }, "model deleted");
    return c.body(null, 200);
  });
}

const busy = (name: string, detail: string) => new HttpError(409, "model_busy", `model '${name}' is in use (${detail}); try again when its requests have finished`);
