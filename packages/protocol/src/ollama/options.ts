import { z } from "zod";

/**
 * Ollama's `options` object. Every key is optional; a known key of the wrong type is a 400,
 * an unknown key is ignored (the caller logs it, see `unknownOptionKeys`).
 * Integer options accept any JSON number and are truncated, as Ollama's Go decoder does.
 */
const int = z.number().transform((n) => Math.trunc(n));
const num = z.number();

export const ModelOptionsShape = {
  // runtime options: applied per request
  /** random seed; -1 or absent = random */
  seed: int.optional(),
  /** maximum tokens to generate; -1 = no limit (bounded by the context), -2 = fill the context */
  num_predict: int.optional(),
  /** sample from the k most likely tokens (Ollama default 40) */
  top_k: int.optional(),
  /** nucleus sampling threshold (default 0.9) */
  top_p: num.optional(),
  /** minimum probability relative to the most likely token (default 0) */
  min_p: num.optional(),
  /** locally typical sampling (not supported by the engine; accepted and logged) */
  typical_p: num.optional(),
  /** how many recent tokens the repeat penalties look at (default 64; 0 = off, -1 = num_ctx) */
  repeat_last_n: int.optional(),
  /** sampling temperature (default 0.8; 0 = greedy) */
  temperature: num.optional(),
  /** penalty for repeated tokens (default 1.0 = none) */
  repeat_penalty: num.optional(),
  /** flat penalty for any token already present */
  presence_penalty: num.optional(),
  /** penalty proportional to how often a token appeared */
  frequency_penalty: num.optional(),
  /** stop sequences; generation ends before any of them */
  stop: z.union([z.string().transform((s) => [s]), z.array(z.string())]).optional(),
  /** tokens kept when the context shifts (not supported by the engine; accepted and logged) */
  num_keep: int.optional(),
  // load-time options: a change means the model is loaded again
  /** context size per sequence */
  num_ctx: int.optional(),
  /** prompt-processing batch size */
  num_batch: int.optional(),
  /** layers to offload to the GPU */
  num_gpu: int.optional(),
  /** GPU used for small tensors */
  main_gpu: int.optional(),
  /** memory-map the model file */
  use_mmap: z.boolean().optional(),
  /** CPU threads for generation */
  num_thread: int.optional(),
} as const;

export const ModelOptions = z.object(ModelOptionsShape);
export type ModelOptions = z.infer<typeof ModelOptions>;

export const KNOWN_OPTION_KEYS: ReadonlySet<string> = new Set(Object.keys(ModelOptionsShape));

/** Keys of a raw `options` object that Ollama's contract does not know. */
export function unknownOptionKeys(raw: unknown): string[] {
  if (raw === null || typeof raw !== "object") return [];
  return Object.keys(raw).filter((key) => !KNOWN_OPTION_KEYS.has(key));
}
