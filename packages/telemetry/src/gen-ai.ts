import type { Attributes } from "@opentelemetry/api";

/** Attribute names of the OpenTelemetry GenAI semantic conventions, and caravan's own. */
export const ATTR = {
  operationName: "gen_ai.operation.name",
  requestModel: "gen_ai.request.model",
  responseModel: "gen_ai.response.model",
  responseId: "gen_ai.response.id",
  finishReasons: "gen_ai.response.finish_reasons",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  tokenType: "gen_ai.token.type",
  errorType: "error.type",
  workerId: "caravan.worker.id",
  jobId: "caravan.job.id",
  queueWaitMs: "caravan.queue.wait_ms",
  coldStart: "caravan.cold_start",
  rejectReason: "caravan.reject.reason",
  /** of the input tokens, those a cached prefix served (not evaluated again) */
  cachedInputTokens: "caravan.usage.cached_input_tokens",
} as const;

/** A job's kind as a GenAI operation name. */
export function genAiOperationName(kind: "chat" | "completion" | "embed"): "chat" | "text_completion" | "embeddings" {
  return kind === "chat" ? "chat" : kind === "completion" ? "text_completion" : "embeddings";
}

/** The request attributes of a GenAI span: operation, model and the sampling options the request set. */
export function genAiRequestAttributes(job: {
  kind: "chat" | "completion" | "embed";
  model: string;
  options: { temperature?: number; top_p?: number; top_k?: number; num_predict?: number; seed?: number };
}): Attributes {
  const { temperature, top_p, top_k, num_predict, seed } = job.options;
  const attributes: Attributes = { [ATTR.operationName]: genAiOperationName(job.kind), [ATTR.requestModel]: job.model };
  if (temperature !== undefined) attributes["gen_ai.request.temperature"] = temperature;
  if (top_p !== undefined) attributes["gen_ai.request.top_p"] = top_p;
  if (top_k !== undefined) attributes["gen_ai.request.top_k"] = top_k;
  if (num_predict !== undefined && num_predict >= 0) attributes["gen_ai.request.max_tokens"] = num_predict;
  if (seed !== undefined && seed !== -1) attributes["gen_ai.request.seed"] = seed;
  return attributes;
}
