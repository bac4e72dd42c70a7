import { z } from "zod";
import { ModelOptions } from "./options.ts";

/** A role, matched case-insensitively as Ollama does. */
export const Role = z
  .string()
  .transform((role) => role.toLowerCase())
  .pipe(z.enum(["system", "user", "assistant", "tool"], { error: (issue) => `unknown role ${JSON.stringify(issue.input)}: use system, user, assistant or tool` }));
export type Role = z.infer<typeof Role>;

export const ToolCall = z.object({
  /** Ollama's ids look like `call_` + 8 lowercase alphanumerics */
  id: z.string().optional(),
  function: z.object({
    index: z.number().int().optional(),
    name: z.string(),
    /** an object, never a JSON string */
    arguments: z.record(z.string(), z.unknown()),
  }),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const ChatMessage = z.object({
  role: Role,
  /** Ollama accepts a missing content (e.g. an assistant turn holding only tool calls) */
  content: z.string().default(""),
  /** base64-encoded images, for multimodal models */
  images: z.array(z.string()).optional(),
  /** calls the assistant made in an earlier turn */
  tool_calls: z.array(ToolCall).optional(),
  /** name of the tool whose result a `tool` message carries */
  tool_name: z.string().optional(),
  /** the assistant's reasoning in an earlier turn */
  thinking: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const Tool = z.object({
  type: z.literal("function").default("function"),
  function: z.object({
    name: z.string(),
    description: z.string().optional(),
    /** a JSON schema for the arguments */
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type Tool = z.infer<typeof Tool>;

/** `"json"` or a JSON schema object; the output is constrained by a grammar. */
export const Format = z.union([z.literal("json"), z.literal(""), z.record(z.string(), z.unknown())]);
export type Format = z.infer<typeof Format>;

export const Think = z.union([z.boolean(), z.enum(["high", "medium", "low"])]);
export type Think = z.infer<typeof Think>;

export const ChatRequest = z.object({
  /** `name` or `name:tag`; required */
  model: z.string({ error: "model is required" }).min(1, { error: "model is required" }),
  /** the conversation so far; empty = load (or, with keep_alive 0, unload) the model */
  messages: z.array(ChatMessage, { error: "messages must be an array" }).default([]),
  /** functions the model may call */
  tools: z.array(Tool).optional(),
  /** constrain the output to JSON or a JSON schema */
  format: Format.optional(),
  /** sampling and load options */
  options: ModelOptions.optional(),
  /** stream NDJSON chunks (default) or answer once */
  stream: z.boolean().default(true),
  /** seconds (number) or a Go duration (string); parsed by parseKeepAlive */
  keep_alive: z.union([z.number(), z.string()]).optional(),
  /** enable thinking, or set its effort */
  think: Think.optional(),
  /** return log probabilities of generated tokens */
  logprobs: z.boolean().optional(),
  /** how many alternatives per token (0..20) */
  top_logprobs: z
    .number()
    .int()
    .min(0, { error: "top_logprobs must be between 0 and 20" })
    .max(20, { error: "top_logprobs must be between 0 and 20" })
    .optional(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

export const TopLogprob = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).optional(),
});
export const Logprob = TopLogprob.extend({ top_logprobs: z.array(TopLogprob).optional() });
export type Logprob = z.infer<typeof Logprob>;

export const DoneReason = z.enum(["stop", "length", "load", "unload"]);
export type DoneReason = z.infer<typeof DoneReason>;

/** Timings and counts of the final object; durations in nanoseconds, all integers. */
export const GenerationMetrics = z.object({
  /** from the request's arrival to its end, queue wait included */
  total_duration: z.number().int(),
  /** loading the model (0 when it was already loaded) */
  load_duration: z.number().int(),
  /** prompt tokens evaluated (cached prefix tokens are not counted) */
  prompt_eval_count: z.number().int(),
  prompt_eval_duration: z.number().int(),
  /** tokens generated */
  eval_count: z.number().int(),
  eval_duration: z.number().int(),
});
export type GenerationMetrics = z.infer<typeof GenerationMetrics>;

export const ChatResponse = z.object({
  model: z.string(),
  /** UTC, RFC 3339 with fractional seconds, e.g. 2025-10-26T17:21:21.196249Z */
  created_at: z.string(),
  message: z.object({
    role: z.literal("assistant"),
    content: z.string(),
    thinking: z.string().optional(),
    tool_calls: z.array(ToolCall).optional(),
  }),
  done: z.boolean(),
  done_reason: DoneReason.optional(),
  logprobs: z.array(Logprob).optional(),
  ...GenerationMetrics.partial().shape,
});
export type ChatResponse = z.infer<typeof ChatResponse>;

export const ErrorResponse = z.object({ error: z.string() });
export type ErrorResponse = z.infer<typeof ErrorResponse>;
