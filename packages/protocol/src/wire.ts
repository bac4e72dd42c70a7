import { z } from "zod";
import { ChatMessage, DoneReason, Format, GenerationMetrics, Logprob, Think, Tool, ToolCall } from "./ollama/chat.ts";
import { ModelOptions } from "./ollama/options.ts";
import { ListedModel } from "./ollama/tags.ts";

/**
 * The gateway⇄worker messages. Every message that crosses a process boundary is one of these,
 * with a version field so that a gateway and a worker of different releases refuse each other's
 * messages loudly instead of misreading them.
 */
export const WIRE_VERSION = 1;
const v = z.literal(WIRE_VERSION, { error: (issue) => `wire version ${JSON.stringify(issue.input)}; this side speaks ${WIRE_VERSION}` });

/** A request for one generation, as the gateway enqueues it (already validated and parsed). */
export const JobMessage = z.object({
  v,
  type: z.literal("job"),
  /** unique per request; names the chunk channel */
  id: z.string(),
  /** canonical model name (lower case, with tag) */
  model: z.string(),
  messages: z.array(ChatMessage),
  options: ModelOptions,
  tools: z.array(Tool).optional(),
  format: Format.optional(),
  think: Think.optional(),
  logprobs: z.boolean().optional(),
  top_logprobs: z.number().int().optional(),
  /** parsed keep_alive in ms (-1 = forever); absent = the server's default */
  keep_alive_ms: z.number().optional(),
  /** epoch ms when the gateway accepted the request */
  accepted_at: z.number(),
});
export type JobMessage = z.infer<typeof JobMessage>;

/** Generated text. `seq` starts at 0 and increases by one per message of a job, of any type. */
export const ChunkMessage = z.object({
  v,
  type: z.literal("chunk"),
  id: z.string(),
  seq: z.number().int(),
  content: z.string(),
  thinking: z.string().optional(),
  tool_calls: z.array(ToolCall).optional(),
  logprobs: z.array(Logprob).optional(),
});
export type ChunkMessage = z.infer<typeof ChunkMessage>;

/** Worker-side timings, nanoseconds. total_duration is the gateway's to measure. */
export const WorkerMetrics = GenerationMetrics.omit({ total_duration: true });
export type WorkerMetrics = z.infer<typeof WorkerMetrics>;

export const DoneMessage = z.object({
  v,
  type: z.literal("done"),
  id: z.string(),
  seq: z.number().int(),
  done_reason: DoneReason,
  metrics: WorkerMetrics,
  worker_id: z.string(),
});
export type DoneMessage = z.infer<typeof DoneMessage>;

/** Stable error codes; the gateway maps them to HTTP statuses in one place. */
export const ErrorCode = z.enum(["model_not_found", "bad_request", "cancelled", "engine_error", "worker_lost", "internal"]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorMessage = z.object({
  v,
  type: z.literal("error"),
  id: z.string(),
  seq: z.number().int(),
  code: ErrorCode,
  message: z.string(),
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

/** From the gateway: stop this job (its client went away). */
export const CancelMessage = z.object({
  v,
  type: z.literal("cancel"),
  id: z.string(),
  reason: z.string(),
});
export type CancelMessage = z.infer<typeof CancelMessage>;

/** Everything a worker sends back about one job. */
export const JobEvent = z.discriminatedUnion("type", [ChunkMessage, DoneMessage, ErrorMessage]);
export type JobEvent = z.infer<typeof JobEvent>;

/** What a worker advertises about itself (heartbeat); the gateway's cluster views read it. */
export const WorkerState = z.object({
  v,
  worker_id: z.string(),
  /** models this worker can serve (files in its models folder) */
  models: z.array(ListedModel),
  num_parallel: z.number().int(),
  /** jobs running now */
  busy: z.number().int(),
  started_at: z.number(),
});
export type WorkerState = z.infer<typeof WorkerState>;
