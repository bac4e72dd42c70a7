import { Hono } from "hono";
import type { CompletionJob } from "@caravan/protocol";
import type { GatewayApp, GatewayDeps, GatewayEnv } from "../deps.ts";
import { errorHandler, HttpError, refuseOtherMethods } from "../errors.ts";
import { serve, type GenerationApi } from "../respond/serve.ts";
import { readOpenAiBody } from "./body.ts";
import { ChatChunker, chatCompletion } from "./chat-response.ts";
import { TextChunker, textCompletion } from "./completion-response.ts";
import { embeddingList } from "./embedding-response.ts";
import { openAiErrorBody } from "./errors.ts";
import { registerModelRoutes } from "./models.ts";
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest } from "./schemas.ts";
import { streamSse } from "./sse.ts";
import { chatCompletionToJob, completionToJob, embeddingToJob } from "./to-job.ts";

/** Where the OpenAI-compatible API is mounted. */
export const V1 = "/v1";

/** Whether a path belongs to /v1, for what the root app answers there (its guards' refusals, unknown paths). */
export const isV1Path = (path: string) => path === V1 || path.startsWith(`${V1}/`);

/** The OpenAI-compatible API, to mount at /v1: its routes, their 405s, and OpenAI's error shape for all of them. */
export function v1App(deps: GatewayDeps): GatewayApp {
  const v1 = new Hono<GatewayEnv>();
  v1.post("/chat/completions", serve(chatCompletions, deps));
  v1.post("/completions", serve(completions, deps));
  v1.post("/embeddings", serve(embeddings, deps));
  registerModelRoutes(v1, deps);
  refuseOtherMethods(v1);
  v1.onError(openAiErrors(deps));
  return v1;
}

export const openAiErrors = (deps: GatewayDeps) => errorHandler(deps.log, openAiErrorBody);

/** OpenAI's 404 for a path it does not have. */
export const unknownUrl = (method: string, path: string) => new HttpError(404, "unknown_url", `Invalid URL (${method} ${path})`);

/** `created` of OpenAI's objects: seconds since the epoch, when the request arrived. */
const seconds = (ms: number) => Math.floor(ms / 1000);

/** POST /v1/chat/completions: one `chat.completion`, or SSE `chat.completion.chunk`s with `stream: true`. */
const chatCompletions: GenerationApi<ChatCompletionRequest> = {
  read: (c, log) => readOpenAiBody(c, ChatCompletionRequest, log),
  toJob: chatCompletionToJob,
  answer(request, job, started, arrivedAt) {
    const meta = { id: `chatcmpl-${job.id}`, created: seconds(arrivedAt), model: request.model };
    const logprobs = request.logprobs ?? false;
    if (!request.stream) return { collect: (answer) => chatCompletion(meta, answer, logprobs) };
    const chunker = new ChatChunker(meta, { includeUsage: request.stream_options?.include_usage ?? false, logprobs });
    return { stream: (c) => streamSse(c, started, (event) => chunker.next(event)) };
  },
};

/** POST /v1/completions (legacy): the prompt continued as raw text, no chat template. */
const completions: GenerationApi<CompletionRequest, CompletionJob> = {
  read: (c, log) => readOpenAiBody(c, CompletionRequest, log),
  toJob: completionToJob,
  answer(request, job, started, arrivedAt) {
    const meta = { id: `cmpl-${job.id}`, created: seconds(arrivedAt), model: request.model };
    const options = { logprobs: request.logprobs !== undefined, promptLength: job.prompt.length };
    if (!request.stream) return { collect: (answer) => textCompletion(meta, answer, options) };
    const chunker = new TextChunker(meta, { ...options, includeUsage: request.stream_options?.include_usage ?? false });
    return { stream: (c) => streamSse(c, started, (event) => chunker.next(event)) };
  },
};

/** POST /v1/embeddings: one normalized vector per input, as floats or base64. */
const embeddings: GenerationApi<EmbeddingRequest> = {
  read: (c, log) => readOpenAiBody(c, EmbeddingRequest, log),
  toJob: embeddingToJob,
  answer: (request) => ({ collect: ({ done }) => embeddingList(request.model, done, request.encoding_format ?? "float") }),
};
