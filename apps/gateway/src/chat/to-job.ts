import { randomUUID } from "node:crypto";
import { canonicalModelName, KeepAliveError, parseKeepAlive, WIRE_VERSION, type ChatRequest, type JobMessage } from "@caravan/protocol";
import { badRequest } from "../errors.ts";

/** Turns a validated /api/chat request into the job a worker runs (keep_alive parsed here, once). */
export function chatRequestToJob(request: ChatRequest): JobMessage {
  // node-llama-cpp 3.22 has no multimodal path, so no model here can see images: say so rather
  // than drop them silently.
  if (request.messages.some((message) => (message.images?.length ?? 0) > 0)) {
    throw badRequest(`model '${request.model}' does not support images: caravan's engine has no multimodal models yet`);
  }
  let keepAliveMs: number | undefined;
  if (request.keep_alive !== undefined) {
    try {
      keepAliveMs = parseKeepAlive(request.keep_alive);
    } catch (error) {
      if (error instanceof KeepAliveError) throw badRequest(error.message);
      throw error;
    }
  }
  return {
    v: WIRE_VERSION,
    type: "job",
    id: randomUUID(),
    model: canonicalModelName(request.model),
    messages: request.messages,
    options: request.options ?? {},
    tools: request.tools,
    format: request.format,
    think: request.think,
    logprobs: request.logprobs,
    top_logprobs: request.top_logprobs,
    keep_alive_ms: keepAliveMs,
    accepted_at: Date.now(),
  };
}
