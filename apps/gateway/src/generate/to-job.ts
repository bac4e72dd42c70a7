import type { ChatMessage, GenerateRequest, JobMessage } from "@caravan/protocol";
import { jobEnvelope } from "../job-fields.ts";

/**
 * /api/generate → a job. With `raw`, the prompt goes to the model as written (a completion job);
 * otherwise it is one user turn, after `system`, through the model's chat template — what
 * Ollama's template does with .System and .Prompt. A `suffix` makes it a fill-in-the-middle
 * completion (prompt before, suffix after), which only models with FIM tokens can do.
 */
export function generateRequestToJob(request: GenerateRequest): JobMessage {
  const base = {
    ...jobEnvelope(request),
    format: request.format,
    think: request.think,
    logprobs: request.logprobs,
    top_logprobs: request.top_logprobs,
  };
  if (request.raw || request.suffix !== undefined) {
    return { ...base, kind: "completion", messages: [], prompt: request.prompt, suffix: request.suffix };
  }
  const messages: ChatMessage[] = [];
  if (request.system) messages.push({ role: "system", content: request.system });
  if (request.prompt !== "") messages.push({ role: "user", content: request.prompt });
  return { ...base, kind: "chat", messages };
}
