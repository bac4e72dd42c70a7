import { randomUUID } from "node:crypto";
import { canonicalModelName, CopyRequest, ModelSourceError, modelFileStem, WIRE_VERSION, type WorkerCommand } from "@caravan/protocol";
import { readBody } from "../body.ts";
import type { GatewayApp, GatewayDeps } from "../deps.ts";
import { badRequest, HttpError, modelNotFound } from "../errors.ts";
import { holdersOf, onePerFolder } from "../manage/folders.ts";
import { workersForModel } from "../models.ts";

/** A hard link is instant; a copy of a large file across filesystems is not. */
const COPY_TIMEOUT_MS = 10 * 60_000;

/**
 * POST /api/copy: each models folder that holds `source` gets `<destination>.gguf`, a hard link
 * where possible. `destination` must be a plain file name (see modelFileStem); an existing
 * destination is a 400 unless it is the same model. 200 with an empty body, as Ollama answers.
 */
export function registerCopyRoute(app: GatewayApp, deps: GatewayDeps): void {
  app.post("/api/copy", async (c) => {
    const { body } = await readBody(c, CopyRequest);
    try {
      modelFileStem(body.destination);
    } catch (error) {
      if (error instanceof ModelSourceError) throw badRequest(error.message);
      throw error;
    }
    const source = canonicalModelName(body.source);
    const holders = onePerFolder(holdersOf(await workersForModel(deps.transport, source), source));
    if (holders.length === 0) throw modelNotFound(body.source);
    const replies = await Promise.all(
      holders.map(async (worker) => {
        try {
          const command: WorkerCommand = { v: WIRE_VERSION, type: "copy", id: randomUUID(), source: body.source, destination: body.destination };
          return await deps.transport.command(worker.worker_id, command, COPY_TIMEOUT_MS);
        } catch (error) {
          return { ok: false, code: "failed" as const, message: `${worker.worker_id}: ${error instanceof Error ? error.message : String(error)}` };
        }
      }),
    );
    const refused = replies.find((reply) => reply.code === "bad_request");
    if (refused) throw badRequest(refused.message ?? "invalid destination");
    const failed = replies.filter((reply) => !reply.ok && reply.code !== "model_not_found");
    if (failed.length > 0) throw new HttpError(500, "copy_failed", failed.map((reply) => reply.message ?? reply.code).join("; "));
    if (!replies.some((reply) => reply.ok)) throw modelNotFound(body.source);
    deps.log.info({ source: body.source, destination: body.destination, workers: holders.map((w) => w.worker_id) }, "model copied");
    return c.body(null, 200);
  });
}
