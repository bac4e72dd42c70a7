import type { Context } from "hono";
import { assertCapable, capabilitiesFor } from "../capabilities.ts";
import type { GatewayDeps } from "../deps.ts";
import { requireModel } from "../models.ts";
import { collectAnswer } from "../respond/collect.ts";
import { startJob } from "../respond/started-job.ts";
import { readOpenAiBody } from "./body.ts";
import { embeddingList } from "./embedding-response.ts";
import { EmbeddingRequest } from "./schemas.ts";
import { embeddingToJob } from "./to-job.ts";

/** POST /v1/embeddings: one normalized vector per input, as floats or base64. */
export function embeddingsHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const request = await readOpenAiBody(c, EmbeddingRequest, deps.log);
    const job = embeddingToJob(request);
    assertCapable(await requireModel(deps.transport, request.model), request.model, capabilitiesFor(job));
    const { done } = await collectAnswer(await startJob(c, deps, job, startedAt));
    return c.json(embeddingList(request.model, done, request.encoding_format ?? "float"));
  };
}
