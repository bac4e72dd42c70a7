import { randomUUID } from "node:crypto";
import { canonicalModelName, WIRE_VERSION, type ChatRequest, type JobMessage } from "@caravan/protocol";
import { keepAliveMs } from "../job-fields.ts";

/** Turns a validated /api/chat request into the job a worker runs (keep_alive parsed here, once). */
export function chatRequestToJob(request: ChatRequest): JobMessage {
  return {
    v: WIRE_VERSION,
    type: "job",
    kind: "chat",
    id: randomUUID(),
    model: canonicalModelName(request.model),
    messages: request.messages,
    options: request.options ?? {},
    // tool_choice "none" hides the tools from the model, as OpenAI defines it
    tools: request.tool_choice === "none" ? undefined : request.tools,
    tool_choice: request.tool_choice === "none" ? undefined : request.tool_choice,
    format: request.format,
    think: request.think,
    logprobs: request.logprobs,
    top_logprobs: request.top_logprobs,
    keep_alive_ms: keepAliveMs(request.keep_alive),
    accepted_at: Date.now(),
  };
}
