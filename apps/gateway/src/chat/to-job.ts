import type { ChatRequest, JobMessage } from "@caravan/protocol";
import { jobEnvelope } from "../job-fields.ts";

/** Turns a validated /api/chat request into the job a worker runs (keep_alive parsed here, once). */
export function chatRequestToJob(request: ChatRequest): JobMessage {
  return {
    ...jobEnvelope(request),
    kind: "chat",
    messages: request.messages,
    // tool_choice "none" hides the tools from the model, as OpenAI defines it
    tools: request.tool_choice === "none" ? undefined : request.tools,
    tool_choice: request.tool_choice === "none" ? undefined : request.tool_choice,
    format: request.format,
    think: request.think,
    logprobs: request.logprobs,
    top_logprobs: request.top_logprobs,
  };
}
