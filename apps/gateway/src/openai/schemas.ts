import { z } from "zod";
import { formatIssuePath } from "@caravan/protocol";

/**
 * The OpenAI request bodies caravan accepts (/v1/chat/completions, /v1/completions,
 * /v1/embeddings), as zod schemas whose type has the same name. They describe only what a
 * client sends; translation to jobs is in to-job.ts. Keys a schema does not name are dropped
 * (the route logs them); the fields listed as "accepted, ignored" are dropped silently because
 * clients send them routinely.
 */

/** OpenAI clients send `null` for "not set" as often as they leave a key out. */
const opt = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === null ? undefined : value), schema.optional());

/** An error naming the field and what it accepts, for unions (zod's own says only "Invalid input"). */
const oneOf = (what: string) => (issue: z.core.$ZodRawIssue) => {
  const field = formatIssuePath(issue.path ?? []);
  return issue.input === undefined ? `${field} is required` : `${field} must be ${what}`;
};

const ignored = z.unknown().optional();
const int = z.number().int();
const model = z.string({ error: (issue) => (issue.input == null ? "model is required" : "model must be a string") }).min(1, { error: "model is required" });
const onlyOne = (field: string) => int.refine((n) => n === 1, { error: `only ${field}=1 is supported` });

/** One stop sequence or several; always an array after parsing. */
export const Stop = z.union([z.string().transform((s) => [s]), z.array(z.string())], { error: oneOf("a string or an array of strings") });

export const StreamOptions = z.object({
  /** send a last chunk with `usage` and no choices */
  include_usage: opt(z.boolean()),
});

/** Sampling fields the chat and legacy completion endpoints share. */
const sampling = {
  /** 0..2; absent means 1, OpenAI's default (Ollama's OpenAI layer does the same) */
  temperature: opt(z.number().min(0).max(2)),
  /** 0..1; absent means 1 */
  top_p: opt(z.number().min(0).max(1)),
  seed: opt(int),
  stop: opt(Stop),
  frequency_penalty: opt(z.number().min(-2).max(2)),
  presence_penalty: opt(z.number().min(-2).max(2)),
  /** only 1 */
  n: opt(onlyOne("n")),
  stream: opt(z.boolean()),
  stream_options: opt(StreamOptions),
  // accepted, ignored
  user: ignored,
  logit_bias: ignored,
} as const;

/** A part of a message's content. Only "text" is usable; the others are refused when translated, by name. */
export const ContentPart = z.looseObject({ type: z.string(), text: opt(z.string()) });
export type ContentPart = z.infer<typeof ContentPart>;

/** A call the assistant made in an earlier turn; `arguments` is a JSON string (an object is tolerated). */
export const RequestToolCall = z.object({
  id: opt(z.string()),
  type: opt(z.literal("function")),
  function: z.object({ name: z.string(), arguments: z.union([z.string(), z.record(z.string(), z.unknown())], { error: oneOf("a JSON string") }) }),
});

export const ChatCompletionMessage = z.object({
  /** "developer" is OpenAI's newer name for "system" */
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: opt(z.union([z.string(), z.array(ContentPart)], { error: oneOf("a string or an array of content parts") })),
  /** assistant: the tool calls of that turn */
  tool_calls: opt(z.array(RequestToolCall)),
  /** tool: which call this is the result of */
  tool_call_id: opt(z.string()),
  /** assistant: its reasoning in that turn (Ollama's OpenAI layer names it so) */
  reasoning: opt(z.string()),
  // accepted, ignored
  name: ignored,
  refusal: ignored,
});
export type ChatCompletionMessage = z.infer<typeof ChatCompletionMessage>;

export const FunctionTool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    description: opt(z.string()),
    /** a JSON schema for the arguments */
    parameters: opt(z.record(z.string(), z.unknown())),
    // accepted, ignored (a forced call is always generated under the schema's grammar)
    strict: ignored,
  }),
});
export type FunctionTool = z.infer<typeof FunctionTool>;

/** a named tool in Chat Completions' nested shape, or the Responses API's flat `{type, name}` (the AI SDK's Ollama provider sends it), read as the nested one */
export const ChatToolChoice = z.union(
  [
    z.enum(["none", "auto", "required"]),
    z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }),
    z.object({ type: z.literal("function"), name: z.string() }).transform(({ name }) => ({ type: "function" as const, function: { name } })),
  ],
  { error: oneOf('"none", "auto", "required", {"type":"function","function":{"name":...}} or {"type":"function","name":...}') },
);
export type ChatToolChoice = z.infer<typeof ChatToolChoice>;

export const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({ name: opt(z.string()), description: opt(z.string()), schema: opt(z.record(z.string(), z.unknown())), strict: ignored }),
  }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

export const ChatCompletionRequest = z.object({
  model,
  messages: z.array(ChatCompletionMessage).min(1, { error: "messages must not be empty" }),
  ...sampling,
  /** the older name of max_completion_tokens */
  max_tokens: opt(int.min(1)),
  max_completion_tokens: opt(int.min(1)),
  tools: opt(z.array(FunctionTool)),
  tool_choice: opt(ChatToolChoice),
  response_format: opt(ResponseFormat),
  logprobs: opt(z.boolean()),
  top_logprobs: opt(int.min(0).max(20)),
  /** "none" turns thinking off; the others set its effort */
  reasoning_effort: opt(z.enum(["none", "low", "medium", "high"])),
  // accepted, ignored
  parallel_tool_calls: ignored,
  store: ignored,
  metadata: ignored,
  service_tier: ignored,
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** A string, or an array of strings or of token ids; only one string is usable (see to-job.ts). */
const TextsOrTokens = z.union([z.string(), z.array(z.union([z.string(), z.number(), z.array(z.number())]))], {
  error: oneOf("a string or an array of strings"),
});

export const CompletionRequest = z.object({
  model,
  prompt: TextsOrTokens,
  ...sampling,
  /** absent: no limit but the context (as Ollama; OpenAI's default is 16) */
  max_tokens: opt(int.min(1)),
  /** text after the insertion point (fill-in-the-middle) */
  suffix: opt(z.string()),
  /** only false */
  echo: opt(z.literal(false, { error: "echo is not supported" })),
  /** how many alternatives per token to return, 0..5 */
  logprobs: opt(int.min(0).max(5)),
  best_of: opt(onlyOne("best_of")),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

export const EmbeddingRequest = z.object({
  model,
  input: TextsOrTokens,
  /** keep this many leading dimensions (the vector is normalized again) */
  dimensions: opt(int.min(1)),
  /** "base64": little-endian float32s, base64-encoded (the official clients ask for it by default) */
  encoding_format: opt(z.enum(["float", "base64"])),
  // accepted, ignored
  user: ignored,
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;
