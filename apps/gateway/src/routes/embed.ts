import type { Context } from "hono";
import { EmbeddingsRequest, EmbedRequest, type EmbedResponse } from "@caravan/protocol";
import { readBody } from "../body.ts";
import { assertCapable } from "../capabilities.ts";
import type { GatewayDeps } from "../deps.ts";
import { embedRequestToJob } from "../embed/to-job.ts";
import { requireModel } from "../models.ts";
import { collectAnswer } from "../respond/collect.ts";
import { loadOrUnload } from "../respond/load-unload.ts";
import { startJob } from "../respond/started-job.ts";

/** POST /api/embed: normalized vectors, one per input; no input loads (or unloads) the model. */
export function embedHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const { body: request } = await readBody(c, EmbedRequest);
    const job = embedRequestToJob({ ...request, normalize: true });
    assertCapable(await requireModel(deps.transport, request.model), request.model, ["embedding"]);
    if (request.input.length === 0) {
      await loadOrUnload(deps, job);
      return c.json({ model: request.model, embeddings: [] });
    }
    const started = await startJob(c, deps, job, startedAt);
    const { done } = await collectAnswer(started);
    const response: EmbedResponse = {
      model: request.model,
      embeddings: done.embeddings ?? [],
      total_duration: started.elapsedNs(),
      load_duration: done.metrics.load_duration,
      prompt_eval_count: done.metrics.prompt_eval_count,
    };
    return c.json(response);
  };
}

/** POST /api/embeddings (legacy): one prompt, one vector as the model gives it (not normalized). */
export function embeddingsHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const { body: request } = await readBody(c, EmbeddingsRequest);
    const job = embedRequestToJob({ ...request, input: request.prompt === "" ? [] : [request.prompt], truncate: true, normalize: false });
    assertCapable(await requireModel(deps.transport, request.model), request.model, ["embedding"]);
    if (request.prompt === "") {
      await loadOrUnload(deps, job);
      return c.json({ embedding: [] });
    }
    const { done } = await collectAnswer(await startJob(c, deps, job, startedAt));
    return c.json({ embedding: done.embeddings?.[0] ?? [] });
  };
}
