import type { ChatJob, ChatMessage, CompletionJob, EmbedJob, Format, ModelOptions, Think, ToolCall } from "@caravan/protocol";
import { jobEnvelope } from "../job-fields.ts";
import { invalidParam } from "./errors.ts";
import type { ChatCompletionMessage, ChatCompletionRequest, CompletionRequest, ContentPart, EmbeddingRequest, ResponseFormat } from "./schemas.ts";

/**
 * OpenAI requests → caravan jobs. Everything a worker cannot do is refused here with a 400
 * naming the field, before the request is queued.
 */

type SamplingFields = Pick<ChatCompletionRequest, "temperature" | "top_p" | "seed" | "stop" | "frequency_penalty" | "presence_penalty">;

/** Ollama options for OpenAI's sampling fields; temperature and top_p default to OpenAI's 1. */
export function samplingOptions(request: SamplingFields, maxTokens: number | undefined): ModelOptions {
  const options: ModelOptions = { temperature: request.temperature ?? 1, top_p: request.top_p ?? 1 };
  if (maxTokens !== undefined) options.num_predict = maxTokens;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.stop !== undefined) options.stop = request.stop;
  if (request.frequency_penalty !== undefined) options.frequency_penalty = request.frequency_penalty;
  if (request.presence_penalty !== undefined) options.presence_penalty = request.presence_penalty;
  return options;
}

export function chatCompletionToJob(request: ChatCompletionRequest): ChatJob {
  checkToolChoice(request);
  return {
    ...jobEnvelope({ model: request.model }),
    kind: "chat",
    messages: chatMessages(request.messages, request.model),
    options: samplingOptions(request, request.max_completion_tokens ?? request.max_tokens),
    tools: request.tools?.map((tool) => ({ type: "function", function: { name: tool.function.name, description: tool.function.description, parameters: tool.function.parameters } })),
    tool_choice: request.tool_choice,
    format: responseFormat(request.response_format),
    think: reasoningToThink(request.reasoning_effort),
    logprobs: request.logprobs,
    top_logprobs: request.top_logprobs,
  };
}

export function completionToJob(request: CompletionRequest): CompletionJob {
  const [prompt] = texts(request.prompt, "prompt");
  if (prompt === undefined) throw invalidParam("prompt", "prompt is required");
  return {
    ...jobEnvelope({ model: request.model }),
    kind: "completion",
    prompt,
    // fill-in-the-middle; OpenAI clients send "" for none
    ...(request.suffix && { suffix: request.suffix }),
    options: samplingOptions(request, request.max_tokens),
    ...(request.logprobs !== undefined && { logprobs: true, top_logprobs: request.logprobs }),
  };
}

export function embeddingToJob(request: EmbeddingRequest): EmbedJob {
  const input = texts(request.input, "input", { many: true });
  if (input.length === 0) throw invalidParam("input", "input must not be empty");
  return {
    ...jobEnvelope({ model: request.model }),
    kind: "embed",
    options: {},
    input,
    truncate: true,
    normalize: true,
    dimensions: request.dimensions,
  };
}

/** The strings of a `prompt` or `input`; token ids need the model's tokenizer, which the gateway has not. */
function texts(value: CompletionRequest["prompt"], field: string, { many = false } = {}): string[] {
  if (typeof value === "string") return [value];
  if (value.some((item) => typeof item !== "string")) throw invalidParam(field, `${field}: token arrays are not supported; send text`);
  if (!many && value.length > 1) throw invalidParam(field, `${field}: only one prompt per request is supported`);
  return value as string[];
}

function responseFormat(format: ResponseFormat | undefined): Format | undefined {
  switch (format?.type) {
    case "json_object":
      return "json";
    case "json_schema":
      return format.json_schema.schema ?? "json";
    default:
      return undefined;
  }
}

function reasoningToThink(effort: ChatCompletionRequest["reasoning_effort"]): Think | undefined {
  if (effort === undefined) return undefined;
  return effort === "none" ? false : effort;
}

/** A tool_choice must pick from the tools sent, as OpenAI checks. */
function checkToolChoice(request: ChatCompletionRequest): void {
  const choice = request.tool_choice;
  if (choice === undefined || choice === "none" || choice === "auto") return;
  const names = (request.tools ?? []).map((tool) => tool.function.name);
  if (names.length === 0) throw invalidParam("tool_choice", "tool_choice is only allowed when tools are specified");
  if (typeof choice === "object" && !names.includes(choice.function.name)) {
    throw invalidParam("tool_choice", `tool_choice names function '${choice.function.name}', which is not in tools`);
  }
}

/** OpenAI messages → caravan's. A tool result gets its tool's name from the call it answers. */
export function chatMessages(messages: ChatCompletionMessage[], model: string): ChatMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((message, i): ChatMessage => {
    const content = messageText(message.content, `messages[${i}].content`, model);
    switch (message.role) {
      case "system":
      case "developer":
        return { role: "system", content };
      case "user":
        return { role: "user", content };
      case "assistant": {
        const toolCalls = message.tool_calls?.map((call, j): ToolCall => {
          if (call.id !== undefined) toolNames.set(call.id, call.function.name);
          const args = toolArguments(call.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`);
          return { ...(call.id !== undefined && { id: call.id }), function: { name: call.function.name, arguments: args } };
        });
        return {
          role: "assistant",
          content,
          ...(toolCalls?.length && { tool_calls: toolCalls }),
          ...(message.reasoning !== undefined && { thinking: message.reasoning }),
        };
      }
      case "tool": {
        const name = message.tool_call_id === undefined ? undefined : toolNames.get(message.tool_call_id);
        return { role: "tool", content, ...(name !== undefined && { tool_name: name }) };
      }
    }
  });
}

/** The text of a message; parts other than text are refused (no model here can see or hear). */
function messageText(content: string | ContentPart[] | undefined, field: string, model: string): string {
  if (content === undefined || typeof content === "string") return content ?? "";
  return content
    .map((part, k) => {
      if (part.type === "text") {
        if (typeof part.text !== "string") throw invalidParam(`${field}[${k}].text`, `${field}[${k}].text is required`);
        return part.text;
      }
      if (part.type === "image_url") {
        throw invalidParam(`${field}[${k}]`, `model '${model}' does not support images: caravan's engine has no multimodal models yet`);
      }
      throw invalidParam(`${field}[${k}].type`, `${field}[${k}]: content parts of type '${part.type}' are not supported; send text`);
    })
    .join("\n");
}

/** OpenAI sends arguments as a JSON string; caravan (like Ollama) holds them as an object. */
function toolArguments(value: string | Record<string, unknown>, field: string): Record<string, unknown> {
  if (typeof value !== "string") return value;
  let parsed: unknown;
  try {
    parsed = value.trim() === "" ? {} : JSON.parse(value);
  } catch {
    throw invalidParam(field, `${field} must be a JSON object (as a string)`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw invalidParam(field, `${field} must be a JSON object (as a string)`);
  return parsed as Record<string, unknown>;
}
