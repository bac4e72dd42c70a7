import { z } from "zod";
import { mustBe, mustBeOneOf, nullAsAbsent } from "./fields.ts";
import { ModelOptions } from "./options.ts";

// Request schemas name the field in every message (see fields.ts) and read a JSON null as
// "not set", as Ollama's Go decoder does. Response schemas describe what we write and need neither.

const ROLES = ["system", "user", "assistant", "tool"] as const;

/** A role, matched case-insensitively as Ollama does; an error quotes the role as the client wrote it. */
export const Role = z.string({ error: mustBe }).transform((role, ctx) => {
  const lower = role.toLowerCase();
  if ((ROLES as readonly string[]).includes(lower)) return lower as (typeof ROLES)[number];
  ctx.issues.push({ code: "custom", input: role, message: `unknown role ${JSON.stringify(role)}; use system, user, assistant or tool` });
  return z.NEVER;
});
export type Role = z.infer<typeof Role>;

export const ToolCall = z.object(
  {
    /** Ollama's ids look like `call_` + 8 lowercase alphanumerics */
    id: nullAsAbsent(z.string({ error: mustBe }).optional()),
    function: z.object(
      {
        index: nullAsAbsent(z.number({ error: mustBe }).int({ error: mustBe }).optional()),
        name: z.string({ error: mustBe }),
        /** an object, never a JSON string */
        arguments: z.record(z.string(), z.unknown(), { error: mustBe }),
      },
      { error: mustBe },
    ),
  },
  { error: mustBe },
);
export type ToolCall = z.infer<typeof ToolCall>;

export const ChatMessage = z.object(
  {
    role: Role,
    /** Ollama accepts a missing content (e.g. an assistant turn holding only tool calls) */
    content: nullAsAbsent(z.string({ error: mustBe }).default("")),
    /** base64-encoded images, for multimodal models */
    images: nullAsAbsent(z.array(z.string({ error: mustBe }), { error: mustBe }).optional()),
    /** calls the assistant made in an earlier turn */
    tool_calls: nullAsAbsent(z.array(ToolCall, { error: mustBe }).optional()),
    /** name of the tool whose result a `tool` message carries */
    tool_name: nullAsAbsent(z.string({ error: mustBe }).optional()),
    /** the assistant's reasoning in an earlier turn */
    thinking: nullAsAbsent(z.string({ error: mustBe }).optional()),
  },
  { error: mustBe },
);
export type ChatMessage = z.infer<typeof ChatMessage>;

export const Tool = z.object(
  {
    type: nullAsAbsent(z.literal("function", { error: mustBeOneOf('"function"') }).default("function")),
    function: z.object(
      {
        name: z.string({ error: mustBe }),
        description: nullAsAbsent(z.string({ error: mustBe }).optional()),
        /** a JSON schema for the arguments */
        parameters: nullAsAbsent(z.record(z.string(), z.unknown(), { error: mustBe }).optional()),
      },
      { error: mustBe },
    ),
  },
  { error: mustBe },
);
export type Tool = z.infer<typeof Tool>;

/**
 * `"json"` or a JSON schema object; the output is constrained by a grammar. `""` means none,
 * as in Ollama (which also reads `null` as none; ChatRequest maps that to absent).
 */
export const Format = z.union([z.literal("json"), z.literal(""), z.record(z.string(), z.unknown())], {
  error: mustBeOneOf('"json" or a JSON schema object'),
});
export type Format = z.infer<typeof Format>;

export const Think = z.union([z.boolean(), z.enum(["high", "medium", "low"])], {
  error: mustBeOneOf('true, false, "high", "medium" or "low"'),
});
export type Think = z.infer<typeof Think>;

const TOP_LOGPROBS_RANGE = "top_logprobs must be between 0 and 20";

/**
 * caravan's extension (OpenAI's `tool_choice`, which Ollama lacks): "auto" (default) lets the
 * model decide, "none" hides the tools, "required" makes it call one of them, and
 * `{type:"function", function:{name}}` makes it call that one. A forced call is generated under
 * a grammar, so its name is one of the tools and its arguments match the tool's schema.
 */
export const ToolChoice = z.union(
  [
    z.enum(["auto", "none", "required"]),
    z.object({ type: z.literal("function").default("function"), function: z.object({ name: z.string() }) }),
  ],
  { error: mustBeOneOf('"auto", "none", "required" or {"type":"function","function":{"name":...}}') },
);
export type ToolChoice = z.infer<typeof ToolChoice>;

/**
 * tool_choice as a client writes it: ToolChoice, or a named tool in the flat shape of OpenAI's
 * Responses API, `{type:"function", name}`, which the AI SDK's Ollama provider sends. Both parse
 * to ToolChoice's nested shape, so nothing past the edge sees the flat one.
 */
export const ToolChoiceField = z.union(
  [
    ToolChoice,
    z.object({ type: z.literal("function"), name: z.string() }).transform(({ name }) => ({ type: "function" as const, function: { name } })),
  ],
  { error: mustBeOneOf('"auto", "none", "required", {"type":"function","function":{"name":...}} or {"type":"function","name":...}') },
);

/** top_logprobs: an integer 0..20 (shared by /api/chat and /api/generate). */
export const TopLogprobs = z
  .number({ error: mustBe })
  .int({ error: mustBe })
  .min(0, { error: TOP_LOGPROBS_RANGE })
  .max(20, { error: TOP_LOGPROBS_RANGE });

/** keep_alive as a client writes it; parsed by parseKeepAlive. */
export const KeepAliveField = z.union([z.number(), z.string()], { error: mustBeOneOf('a number of seconds or a duration such as "5m"') });

/** `model` of every request: required, a non-empty string (`name` or `name:tag`). */
export const ModelField = z
  .string({ error: (issue) => (issue.input == null ? "model is required" : "model must be a string") })
  .min(1, { error: "model is required" });

export const ChatRequest = z.object(
  {
    /** `name` or `name:tag`; required */
    model: ModelField,
    /** the conversation so far; empty = load (or, with keep_alive 0, unload) the model */
    messages: nullAsAbsent(z.array(ChatMessage, { error: mustBe }).default([])),
    /** functions the model may call */
    tools: nullAsAbsent(z.array(Tool, { error: mustBe }).optional()),
    /** constrain the output to JSON or a JSON schema */
    format: nullAsAbsent(Format.optional()),
    /** sampling and load options */
    options: nullAsAbsent(ModelOptions.optional()),
    /** stream NDJSON chunks (default) or answer once */
    stream: nullAsAbsent(z.boolean({ error: mustBe }).default(true)),
    /** seconds (number) or a Go duration (string); parsed by parseKeepAlive */
    keep_alive: nullAsAbsent(KeepAliveField.optional()),
    /** enable thinking, or set its effort */
    think: nullAsAbsent(Think.optional()),
    /** return log probabilities of generated tokens */
    logprobs: nullAsAbsent(z.boolean({ error: mustBe }).optional()),
    /** how many alternatives per token (0..20) */
    top_logprobs: nullAsAbsent(TopLogprobs.optional()),
    /** caravan extension: make the model call a tool (see ToolChoice) */
    tool_choice: nullAsAbsent(ToolChoiceField.optional()),
  },
  { error: mustBe },
);
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
  /** every token of the prompt, those served from the cache included (as Ollama counts them) */
  prompt_eval_count: z.number().int(),
  /**
   * caravan extension: how many of prompt_eval_count came from a sequence's cache (a prefix it
   * still held) and were not evaluated again; 0 when none. Always in caravan's final objects;
   * optional here so that answers of a worker that predates it still parse.
   */
  prompt_cached_count: z.number().int().optional(),
  /** evaluating the part of the prompt that was not cached */
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
