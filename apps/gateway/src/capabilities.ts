import type { AdvertisedModel, Capability, JobMessage, Think } from "@caravan/protocol";
import { HttpError } from "./errors.ts";

/** A request its model cannot serve: Ollama's 400, told apart only in metrics (reject reason `capability`). */
export class CapabilityError extends HttpError {
  constructor(message: string) {
    super(400, "bad_request", message);
  }
}

/** Ollama's words when a model lacks what a request needs (NAME as the client wrote it, quoted as Ollama's %q does). */
const REFUSALS: Record<Capability, (name: string) => string> = {
  tools: (name) => `"${name}" does not support tools`,
  thinking: (name) => `"${name}" does not support thinking`,
  insert: (name) => `"${name}" does not support insert`,
  completion: (name) => `"${name}" does not support generate`,
  embedding: (name) => `"${name}" does not support embeddings`,
  vision: (name) => `"${name}" does not support images`,
};

/** Throws a 400 for the first capability in `needs` that `model` does not advertise. */
export function assertCapable(model: AdvertisedModel, requestedName: string, needs: readonly Capability[]): void {
  const missing = needs.find((need) => !model.capabilities.includes(need));
  if (missing) throw new CapabilityError(REFUSALS[missing](requestedName));
}

/**
 * What a job needs its model to be able to do: generation or embedding by kind, plus tools,
 * thinking, insert (a suffix) and vision (images) when it asks for them. `think: false` and tools
 * under `tool_choice: "none"` (the model may not call them) need nothing. `asked`: what the
 * request asked for that its job does not carry (images no engine here can see, and /api/generate's
 * `think` with `raw`, which a completion cannot do but Ollama still checks).
 */
export function capabilitiesFor(job: JobMessage, asked: { images?: boolean; think?: Think } = {}): Capability[] {
  const chat = job.kind === "chat" ? job : undefined;
  const needs: Capability[] = [job.kind === "embed" ? "embedding" : "completion"];
  if (chat?.tools?.length && chat.tool_choice !== "none") needs.push("tools");
  const think = chat ? chat.think : asked.think;
  if (think !== undefined && think !== false) needs.push("thinking");
  if (job.kind === "completion" && job.suffix !== undefined) needs.push("insert");
  if (asked.images ?? chat?.messages.some((message) => (message.images?.length ?? 0) > 0)) needs.push("vision");
  return needs;
}
