import type { JobMessage, ModelOptions } from "@caravan/protocol";
import { badRequest } from "../errors.ts";

/** Ceilings on what one request may ask for; 0 = none. */
export interface Ceilings {
  maxNumPredict: number;
  maxNumCtx: number;
  maxMessages: number;
}

export const NO_CEILINGS: Ceilings = { maxNumPredict: 0, maxNumCtx: 0, maxMessages: 0 };

/**
 * Refuses (400, naming the limit) a job past a ceiling before it is queued. An unset
 * num_predict gets the ceiling, so that "until the model stops" is bounded too.
 */
export function enforceCeilings(job: JobMessage, ceilings: Ceilings): void {
  checkOptions(job.options, ceilings);
  const { maxNumPredict, maxMessages } = ceilings;
  if (maxNumPredict > 0 && job.kind !== "embed") {
    const n = job.options.num_predict;
    if (n === undefined) job.options.num_predict = maxNumPredict;
    else if (n < 0 || n > maxNumPredict) {
      throw badRequest(`num_predict ${n < 0 ? `${n} (no limit)` : n} exceeds this server's limit of ${maxNumPredict} (CARAVAN_MAX_NUM_PREDICT)`);
    }
  }
  if (maxMessages > 0) {
    if (job.kind === "chat" && job.messages.length > maxMessages) throw badRequest(`${job.messages.length} messages exceed this server's limit of ${maxMessages} (CARAVAN_MAX_MESSAGES)`);
    const inputs = job.kind === "embed" ? job.input.length : 0;
    if (inputs > maxMessages) throw badRequest(`${inputs} inputs exceed this server's limit of ${maxMessages} (CARAVAN_MAX_MESSAGES)`);
  }
}

/** The options ceilings that also apply to a load (`messages: []`). */
export function checkOptions(options: ModelOptions, ceilings: Ceilings): void {
  const ctx = options.num_ctx;
  if (ceilings.maxNumCtx > 0 && ctx !== undefined && ctx > ceilings.maxNumCtx) {
    throw badRequest(`num_ctx ${ctx} exceeds this server's limit of ${ceilings.maxNumCtx} (CARAVAN_MAX_NUM_CTX)`);
  }
}
