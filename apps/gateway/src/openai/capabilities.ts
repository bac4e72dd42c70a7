import type { Capability } from "@caravan/protocol";
import type { ChatCompletionRequest, CompletionRequest } from "./schemas.ts";

// What a model must be able to do for each OpenAI request; the routes check it with
// assertCapable, which refuses with Ollama's 400s.

/** Tools count only if the model may call them; "none" hides them. */
export function chatNeeds(request: ChatCompletionRequest): Capability[] {
  const needs: Capability[] = ["completion"];
  if ((request.tools?.length ?? 0) > 0 && request.tool_choice !== "none") needs.push("tools");
  if (request.reasoning_effort !== undefined && request.reasoning_effort !== "none") needs.push("thinking");
  return needs;
}

export function completionNeeds(request: CompletionRequest): Capability[] {
  return request.suffix ? ["completion", "insert"] : ["completion"];
}

export const EMBEDDING_NEEDS: Capability[] = ["embedding"];
