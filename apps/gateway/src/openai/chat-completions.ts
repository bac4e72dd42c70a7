import type { Context } from "hono";
import { assertCapable, capabilitiesFor } from "../capabilities.ts";
import type { GatewayDeps } from "../deps.ts";
import { requireModel } from "../models.ts";
import { collectAnswer } from "../respond/collect.ts";
import { startJob } from "../respond/started-job.ts";
import { readOpenAiBody } from "./body.ts";
import { ChatChunker, chatCompletion } from "./chat-response.ts";
import { nowSeconds } from "./response-common.ts";
import { ChatCompletionRequest } from "./schemas.ts";
import { streamSse } from "./sse.ts";
import { chatCompletionToJob } from "./to-job.ts";

/** POST /v1/chat/completions: one `chat.completion`, or SSE `chat.completion.chunk`s with `stream: true`. */
export function chatCompletionsHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const created = nowSeconds();
    const request = await readOpenAiBody(c, ChatCompletionRequest, deps.log);
    const job = chatCompletionToJob(request);
    assertCapable(await requireModel(deps.transport, request.model), request.model, capabilitiesFor(job));

    const started = await startJob(c, deps, job, startedAt);
    const meta = { id: `chatcmpl-${job.id}`, created, model: request.model };
    const logprobs = request.logprobs ?? false;
    if (request.stream) {
      const chunker = new ChatChunker(meta, { includeUsage: request.stream_options?.include_usage ?? false, logprobs });
      return streamSse(c, started, (event) => chunker.next(event));
    }
    return c.json(chatCompletion(meta, await collectAnswer(started), logprobs));
  };
}
