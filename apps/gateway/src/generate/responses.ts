import { ollamaTimestamp, type ChunkMessage, type DoneMessage, type GenerateResponse } from "@caravan/protocol";

/** Ollama's /api/generate objects: `response` (and `thinking`) instead of chat's `message`. */
export function generateChunk(model: string, event: ChunkMessage): GenerateResponse {
  return {
    model,
    created_at: ollamaTimestamp(),
    response: event.content,
    ...(event.thinking !== undefined && { thinking: event.thinking }),
    done: false,
    ...(event.logprobs !== undefined && { logprobs: event.logprobs }),
  };
}

/** The final object, with the metrics (load and unload answers carry none, as in Ollama). */
export function generateDone(model: string, event: Pick<DoneMessage, "done_reason" | "metrics">, totalDurationNs: number, response = ""): GenerateResponse {
  const base: GenerateResponse = { model, created_at: ollamaTimestamp(), response, done: true, done_reason: event.done_reason };
  if (event.done_reason === "load" || event.done_reason === "unload") return base;
  return { ...base, total_duration: totalDurationNs, ...event.metrics, prompt_cached_count: event.metrics.prompt_cached_count ?? 0 };
}
