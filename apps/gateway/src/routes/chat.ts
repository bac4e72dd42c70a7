import type { Context } from "hono";
import { ChatRequest, ollamaTimestamp, unknownOptionKeys, type ChatResponse } from "@caravan/protocol";
import { readBody } from "../body.ts";
import { assertCapable, capabilitiesFor } from "../capabilities.ts";
import { chunkResponse, doneResponse } from "../chat/responses.ts";
import { chatRequestToJob } from "../chat/to-job.ts";
import type { GatewayDeps } from "../deps.ts";
import { requireModel } from "../models.ts";
import { collectAnswer } from "../respond/collect.ts";
import { loadOrUnload } from "../respond/load-unload.ts";
import { streamNdjson } from "../respond/ndjson.ts";
import { startJob } from "../respond/started-job.ts";

/** POST /api/chat: NDJSON chunks (default) or one object with `stream: false`. */
export function chatHandler(deps: GatewayDeps) {
  return async (c: Context) => {
    const startedAt = process.hrtime.bigint();
    const { body: request, raw } = await readBody(c, ChatRequest);
    const unknown = unknownOptionKeys(raw.options);
    if (unknown.length > 0) deps.log.warn({ model: request.model, options: unknown }, "ignoring unknown options");
    const job = chatRequestToJob(request);
    // No model here is multimodal (node-llama-cpp 3.22 has no such path): images get the vision refusal.
    assertCapable(await requireModel(deps.transport, request.model), request.model, job.messages.length === 0 ? [] : capabilitiesFor(job));
    if (job.messages.length === 0) {
      const body: ChatResponse = {
        model: request.model,
        created_at: ollamaTimestamp(),
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: await loadOrUnload(deps, job),
      };
      return request.stream ? c.body(`${JSON.stringify(body)}\n`, 200, { "Content-Type": "application/x-ndjson" }) : c.json(body);
    }

    const started = await startJob(c, deps, job, startedAt);
    if (request.stream) {
      return streamNdjson(c, started, (event) => (event.type === "chunk" ? chunkResponse(request.model, event) : doneResponse(request.model, event, started.elapsedNs())));
    }
    const answer = await collectAnswer(started);
    const response = doneResponse(request.model, answer.done, started.elapsedNs(), answer.content);
    if (answer.thinking) response.message.thinking = answer.thinking;
    if (answer.toolCalls.length > 0) response.message.tool_calls = answer.toolCalls;
    if (answer.logprobs.length > 0) response.logprobs = answer.logprobs;
    return c.json(response);
  };
}
