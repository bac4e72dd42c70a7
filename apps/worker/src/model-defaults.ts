import type { ChatMessage, JobMessage } from "@caravan/protocol";
import type { Sidecar } from "./catalog/index.ts";

/**
 * A job with its model's sidecar defaults applied, as Ollama applies a Modelfile: the sidecar's
 * PARAMETERs under the request's own options; for chats, the sidecar's SYSTEM unless the
 * conversation brings its own, and its MESSAGEs (few-shot turns) after the system prompt and
 * before the conversation.
 */
export function withModelDefaults<J extends JobMessage>(job: J, sidecar: Sidecar | undefined): J {
  if (!sidecar) return job;
  const options = { ...sidecar.parameters, ...job.options };
  if (job.kind !== "chat") return { ...job, options };
  const leadingSystem = job.messages.findIndex((message) => message.role !== "system");
  const split = leadingSystem === -1 ? job.messages.length : leadingSystem;
  const own = job.messages.slice(0, split);
  const system: ChatMessage[] = own.length > 0 ? own : sidecar.system !== undefined ? [{ role: "system", content: sidecar.system }] : [];
  return { ...job, options, messages: [...system, ...sidecar.messages, ...job.messages.slice(split)] };
}
