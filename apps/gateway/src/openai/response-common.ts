import type { DoneMessage, Logprob } from "@caravan/protocol";

/** What every object of one OpenAI response repeats. */
export interface ResponseMeta {
  /** `chatcmpl-…` or `cmpl-…`, made from the job id so that logs and answers match */
  id: string;
  /** seconds since the epoch, when the request arrived */
  created: number;
  /** the model as the client wrote it */
  model: string;
}

export type FinishReason = "stop" | "length" | "tool_calls";

export interface Usage {
  /** every prompt token, cached ones included */
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** of prompt_tokens, those a sequence's cache served */
  prompt_tokens_details: { cached_tokens: number };
}

/** A tool call wins over the reason the generation ended, as in OpenAI (and Ollama's OpenAI layer). */
export function finishReason(done: DoneMessage, calledTools: boolean): FinishReason {
  if (calledTools) return "tool_calls";
  return done.done_reason === "length" ? "length" : "stop";
}

export function usage(done: DoneMessage): Usage {
  const { prompt_eval_count: prompt, prompt_cached_count: cached = 0, eval_count: completion } = done.metrics;
  // OpenAI's own field for the prompt tokens a cache served (they are counted in prompt_tokens too).
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } };
}

/** A token's UTF-8 bytes; the worker sends them only where the text alone loses some (split characters). */
export const tokenBytes = (logprob: Pick<Logprob, "token" | "bytes">): number[] => logprob.bytes ?? [...Buffer.from(logprob.token, "utf8")];
