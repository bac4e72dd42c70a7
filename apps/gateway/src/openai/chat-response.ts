import { randomBytes } from "node:crypto";
import type { ChunkMessage, DoneMessage, Logprob, ToolCall } from "@caravan/protocol";
import type { CollectedAnswer } from "../respond/collect.ts";
import { finishReason, tokenBytes, usage, type FinishReason, type ResponseMeta, type Usage } from "./response-common.ts";

/** Worker events → OpenAI's `chat.completion` and `chat.completion.chunk` objects. */

export interface OpenAiToolCall {
  id: string;
  type: "function";
  /** arguments as a JSON string, as OpenAI sends them */
  function: { name: string; arguments: string };
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}

export interface ChoiceLogprobs {
  content: Array<TopLogprob & { top_logprobs: TopLogprob[] }>;
  refusal: null;
}

export interface AssistantMessage {
  role: "assistant";
  /** null when the turn is only tool calls */
  content: string | null;
  /** thinking, under the name Ollama's OpenAI layer uses */
  reasoning?: string;
  tool_calls?: OpenAiToolCall[];
}

export interface ChatCompletion extends ResponseMeta {
  object: "chat.completion";
  choices: [{ index: 0; message: AssistantMessage; logprobs: ChoiceLogprobs | null; finish_reason: FinishReason }];
  usage: Usage;
}

export interface ChunkDelta {
  role?: "assistant";
  content?: string;
  reasoning?: string;
  tool_calls?: Array<OpenAiToolCall & { index: number }>;
}

export interface ChatCompletionChunk extends ResponseMeta {
  object: "chat.completion.chunk";
  choices: Array<{ index: 0; delta: ChunkDelta; logprobs: ChoiceLogprobs | null; finish_reason: FinishReason | null }>;
  /** with stream_options.include_usage: null on every chunk but the last, which has no choices */
  usage?: Usage | null;
}

const ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Ollama's id form (`call_` + 8 lowercase alphanumerics), for calls the worker sent without one. */
export function toolCallId(): string {
  return `call_${[...randomBytes(8)].map((byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join("")}`;
}

export function openAiToolCall(call: ToolCall): OpenAiToolCall {
  return { id: call.id ?? toolCallId(), type: "function", function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments) } };
}

export function openAiLogprobs(logprobs: Logprob[]): ChoiceLogprobs {
  const one = (l: Omit<Logprob, "top_logprobs">): TopLogprob => ({ token: l.token, logprob: l.logprob, bytes: tokenBytes(l) });
  return { content: logprobs.map((l) => ({ ...one(l), top_logprobs: (l.top_logprobs ?? []).map(one) })), refusal: null };
}

/** The whole answer (stream: false). */
export function chatCompletion(meta: ResponseMeta, answer: CollectedAnswer, withLogprobs: boolean): ChatCompletion {
  const toolCalls = answer.toolCalls.map(openAiToolCall);
  const message: AssistantMessage = { role: "assistant", content: answer.content === "" && toolCalls.length > 0 ? null : answer.content };
  if (answer.thinking) message.reasoning = answer.thinking;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    ...meta,
    object: "chat.completion",
    choices: [{ index: 0, message, logprobs: withLogprobs ? openAiLogprobs(answer.contentLogprobs) : null, finish_reason: finishReason(answer.done, toolCalls.length > 0) }],
    usage: usage(answer.done),
  };
}

/**
 * Turns a job's events, in order, into stream chunks: the first carries the role, tool calls
 * are numbered across the stream, the done event becomes the chunk with finish_reason and,
 * with include_usage, one more chunk with the usage.
 */
export class ChatChunker {
  private roleSent = false;
  private toolCalls = 0;

  constructor(
    private readonly meta: ResponseMeta,
    private readonly options: { includeUsage: boolean; logprobs: boolean },
  ) {}

  next(event: ChunkMessage | DoneMessage): ChatCompletionChunk[] {
    if (event.type === "done") return this.done(event);
    const delta = this.delta();
    if (event.content !== "" || delta.role) delta.content = event.content;
    if (event.thinking) delta.reasoning = event.thinking;
    if (event.tool_calls?.length) delta.tool_calls = event.tool_calls.map((call) => ({ index: this.toolCalls++, ...openAiToolCall(call) }));
    // logprobs.content describes the content: a thought's chunk carries none.
    const logprobs = this.options.logprobs && !event.thinking && event.logprobs?.length ? openAiLogprobs(event.logprobs) : null;
    if (Object.keys(delta).length === 0 && !logprobs) return [];
    return [this.chunk(delta, logprobs, null)];
  }

  private done(event: DoneMessage): ChatCompletionChunk[] {
    const chunks = [this.chunk(this.delta(), null, finishReason(event, this.toolCalls > 0))];
    if (this.options.includeUsage) chunks.push({ ...this.meta, object: "chat.completion.chunk", choices: [], usage: usage(event) });
    return chunks;
  }

  private delta(): ChunkDelta {
    if (this.roleSent) return {};
    this.roleSent = true;
    return { role: "assistant" };
  }

  private chunk(delta: ChunkDelta, logprobs: ChoiceLogprobs | null, finish: FinishReason | null): ChatCompletionChunk {
    return {
      ...this.meta,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, logprobs, finish_reason: finish }],
      ...(this.options.includeUsage && { usage: null }),
    };
  }
}
