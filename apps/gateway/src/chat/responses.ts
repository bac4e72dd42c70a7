import { ollamaTimestamp, type ChatResponse, type ChunkMessage, type DoneMessage } from "@caravan/protocol";

/** Builds Ollama's /api/chat objects from worker events. */
export function chunkResponse(model: string, event: ChunkMessage): ChatResponse {
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

/**
 * The final object. Load and unload answers carry no metrics, as in Ollama; generations carry
 * all six, with total_duration measured here from the request's arrival.
 */
export function doneResponse(model: string, event: DoneMessage, totalDurationNs: number, content = ""): ChatResponse {
  const base: ChatResponse = {
    model,
    created_at: ollamaTimestamp(),
    message: { role: "assistant", content },
    done: true,
    done_reason: event.done_reason,
  };
  if (event.done_reason === "load" || event.done_reason === "unload") return base;
  return {
    ...base,
    total_duration: totalDurationNs,
    load_duration: event.metrics.load_duration,
    prompt_eval_count: event.metrics.prompt_eval_count,
    prompt_cached_count: event.metrics.prompt_cached_count ?? 0,
    prompt_eval_duration: event.metrics.prompt_eval_duration,
    eval_count: event.metrics.eval_count,
    eval_duration: event.metrics.eval_duration,
  };
}
