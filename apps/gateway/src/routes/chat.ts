import { ChatRequest, ollamaTimestamp, type ChatResponse, type ChunkMessage, type ChatJob, type DoneMessage } from "@caravan/protocol";
import { readWithOptions } from "../body.ts";
import { jobEnvelope } from "../job-fields.ts";
import { ndjsonOrJson, streamNdjson } from "../respond/ndjson.ts";
import type { GenerationApi } from "../respond/serve.ts";

/** POST /api/chat: NDJSON chunks (default) or one object with `stream: false`; no messages loads (or unloads) the model. */
export const chat: GenerationApi<ChatRequest> = {
  read: (c, log) => readWithOptions(c, ChatRequest, log),
  toJob: chatRequestToJob,
  // No model here is multimodal (node-llama-cpp 3.22 has no such path): images get the vision refusal (capabilitiesFor).
  loadOnly: {
    when: (request) => request.messages.length === 0,
    answer: (c, request, done) =>
      ndjsonOrJson(c, request.stream, { model: request.model, created_at: ollamaTimestamp(), message: { role: "assistant", content: "" }, done: true, done_reason: done } satisfies ChatResponse),
  },
  answer: (request, _job, started) =>
    request.stream
      ? { stream: (c) => streamNdjson(c, started, (event) => (event.type === "chunk" ? chunkResponse(request.model, event) : doneResponse(request.model, event, started.elapsedNs()))) }
      : {
          collect(answer) {
            const response = doneResponse(request.model, answer.done, started.elapsedNs(), answer.content);
            if (answer.thinking) response.message.thinking = answer.thinking;
            if (answer.toolCalls.length > 0) response.message.tool_calls = answer.toolCalls;
            if (answer.logprobs.length > 0) response.logprobs = answer.logprobs;
            return response;
          },
        },
};

/** A validated /api/chat request → the job a worker runs (keep_alive parsed here, once). */
export function chatRequestToJob(request: ChatRequest): ChatJob {
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

function chunkResponse(model: string, event: ChunkMessage): ChatResponse {
  return {
    model,
    created_at: ollamaTimestamp(),
    message: {
      role: "assistant",
      content: event.content,
      ...(event.thinking !== undefined && { thinking: event.thinking }),
      ...(event.tool_calls !== undefined && { tool_calls: event.tool_calls }),
    },
    done: false,
    ...(event.logprobs !== undefined && { logprobs: event.logprobs }),
  };
}

/** The final object, with all six metrics; total_duration is measured here, from the request's arrival. */
function doneResponse(model: string, event: DoneMessage, totalDurationNs: number, content = ""): ChatResponse {
  return {
    model,
    created_at: ollamaTimestamp(),
    message: { role: "assistant", content },
    done: true,
    done_reason: event.done_reason,
    total_duration: totalDurationNs,
    load_duration: event.metrics.load_duration,
    prompt_eval_count: event.metrics.prompt_eval_count,
    prompt_cached_count: event.metrics.prompt_cached_count ?? 0,
    prompt_eval_duration: event.metrics.prompt_eval_duration,
    eval_count: event.metrics.eval_count,
    eval_duration: event.metrics.eval_duration,
  };
}
