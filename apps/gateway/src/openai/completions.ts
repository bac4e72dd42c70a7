import type { Context } from "hono";
import { assertCapable, capabilitiesFor } from "../capabilities.ts";
import type { GatewayDeps } from "../deps.ts";
import { requireModel } from "../models.ts";
import { collectAnswer } from "../respond/collect.ts";
import { startJob } from "../respond/started-job.ts";
import { readOpenAiBody } from "./body.ts";
import { TextChunker, textCompletion } from "./completion-response.ts";
import { nowSeconds } from "./response-common.ts";
import { CompletionRequest } from "./schemas.ts";
import { streamSse } from "./sse.ts";
import { completionToJob } from "./to-job.ts";

/** POST /v1/completions (legacy): the prompt continued as raw text, no chat template. */
export function completionsHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const created = nowSeconds();
    const request = await readOpenAiBody(c, CompletionRequest, deps.log);
    const job = completionToJob(request);
    assertCapable(await requireModel(deps.transport, request.model), request.model, capabilitiesFor(job));

    const started = await startJob(c, deps, job, startedAt);
    const meta = { id: `cmpl-${job.id}`, created, model: request.model };
    const options = { logprobs: request.logprobs !== undefined, promptLength: job.prompt?.length ?? 0 };
    if (request.stream) {
      const chunker = new TextChunker(meta, { ...options, includeUsage: request.stream_options?.include_usage ?? false });
      return streamSse(c, started, (event) => chunker.next(event));
    }
    return c.json(textCompletion(meta, await collectAnswer(started), options));
  };
}
