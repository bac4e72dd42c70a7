import type { JobMessage } from "@caravan/protocol";
import type { GatewayDeps } from "../deps.ts";

/**
 * An empty request (chat with no messages, generate with no prompt, embed with no input) loads
 * the model, or with keep_alive 0 unloads it on every worker. Returns which one happened.
 */
export async function loadOrUnload(deps: GatewayDeps, job: JobMessage): Promise<"load" | "unload"> {
  if (job.keep_alive_ms === 0) {
    await deps.dispatcher.unloadEverywhere(job.model);
    return "unload";
  }
  await deps.dispatcher.load(job.model, job.keep_alive_ms, job.options);
  return "load";
}
