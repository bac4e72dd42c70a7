import type { AdvertisedModel, Capability, JobMessage } from "@caravan/protocol";
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
 * under `tool_choice: "none"` (the model may not call them) need nothing.
 */
export function capabilitiesFor(job: JobMessage, hasImages = job.messages.some((message) => (message.images?.length ?? 0) > 0)): Capability[] {
  const needs: Capability[] = [job.kind === "embed" ? "embedding" : "completion"];
  if ((job.tools?.length ?? 0) > 0 && job.tool_choice !== "none") needs.push("tools");
  if (job.think !== undefined && job.think !== false) needs.push("thinking");
  if (job.suffix !== undefined) needs.push("insert");
  if (hasImages) needs.push("vision");
  return needs;
}
