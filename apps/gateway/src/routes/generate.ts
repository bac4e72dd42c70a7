import { GenerateRequest, ollamaTimestamp, type ChatMessage, type ChunkMessage, type DoneMessage, type GenerateResponse, type JobMessage } from "@caravan/protocol";
import { readWithOptions } from "../body.ts";
import { capabilitiesFor } from "../capabilities.ts";
import { jobEnvelope } from "../job-fields.ts";
import { ndjsonOrJson, streamNdjson } from "../respond/ndjson.ts";
import type { GenerationApi } from "../respond/serve.ts";

/** POST /api/generate: like /api/chat, for one prompt; answers carry `response` instead of `message`. */
export const generate: GenerationApi<GenerateRequest> = {
  async read(c, log) {
    const request = await readWithOptions(c, GenerateRequest, log);
    // Go templates cannot be rendered by the engine, and token contexts are an Ollama-runner detail.
    if (request.template !== undefined) log.warn({ model: request.model }, "ignoring `template`: the model's own chat template is used");
    if (request.context !== undefined) log.warn({ model: request.model }, "ignoring `context`: send the conversation to /api/chat instead");
    return request;
  },
  toJob: generateRequestToJob,
  // The job carries no images (no engine here can see them): the request tells whether it had some.
  needs: (request, job) => capabilitiesFor(job, { images: (request.images?.length ?? 0) > 0, think: request.think }),
  loadOnly: {
    when: (request) => request.prompt === "" && request.suffix === undefined,
    answer: (c, request, done) => ndjsonOrJson(c, request.stream, { model: request.model, created_at: ollamaTimestamp(), response: "", done: true, done_reason: done } satisfies GenerateResponse),
  },
  answer: (request, _job, started) =>
    request.stream
      ? { stream: (c) => streamNdjson(c, started, (event) => (event.type === "chunk" ? generateChunk(request.model, event) : generateDone(request.model, event, started.elapsedNs()))) }
      : {
          collect(answer) {
            const response = generateDone(request.model, answer.done, started.elapsedNs(), answer.content);
            if (answer.thinking) response.thinking = answer.thinking;
            if (answer.logprobs.length > 0) response.logprobs = answer.logprobs;
            return response;
          },
        },
};

/**
 * /api/generate → a job. With `raw`, the prompt goes to the model as written (a completion job);
 * otherwise it is one user turn, after `system`, through the model's chat template — what
 * Ollama's template does with .System and .Prompt. A `suffix` makes it a fill-in-the-middle
 * completion (prompt before, suffix after), which only models with FIM tokens can do.
 */
export function generateRequestToJob(request: GenerateRequest): JobMessage {
  const base = { ...jobEnvelope(request), format: request.format, logprobs: request.logprobs, top_logprobs: request.top_logprobs };
  if (request.raw || request.suffix !== undefined) {
    return { ...base, kind: "completion", prompt: request.prompt, suffix: request.suffix };
  }
  const messages: ChatMessage[] = [];
  if (request.system) messages.push({ role: "system", content: request.system });
  if (request.prompt !== "") messages.push({ role: "user", content: request.prompt });
  return { ...base, kind: "chat", messages, think: request.think };
}

function generateChunk(model: string, event: ChunkMessage): GenerateResponse {
  return {
    model,
    created_at: ollamaTimestamp(),
    response: event.content,
    ...(event.thinking !== undefined && { thinking: event.thinking }),
    done: false,
    ...(event.logprobs !== undefined && { logprobs: event.logprobs }),
  };
}

/** The final object, with the metrics; total_duration is measured here, from the request's arrival. */
function generateDone(model: string, event: DoneMessage, totalDurationNs: number, response = ""): GenerateResponse {
  return { model, created_at: ollamaTimestamp(), response, done: true, done_reason: event.done_reason, total_duration: totalDurationNs, ...event.metrics, prompt_cached_count: event.metrics.prompt_cached_count ?? 0 };
}
