import { z } from "zod";
import { mustBe, mustBeOneOf, nullAsAbsent } from "./fields.ts";

/**
 * Ollama's `options` object. Every key is optional; a known key of the wrong type is a 400,
 * an unknown key is ignored (the caller logs it, see `unknownOptionKeys`), and a null value is
 * skipped, as Ollama's Options.FromMap does.
 * Integer options accept any JSON number and are truncated, as Ollama's Go decoder does.
 */
const int = nullAsAbsent(z.number({ error: mustBe }).transform((n) => Math.trunc(n)).optional());
const num = nullAsAbsent(z.number({ error: mustBe }).optional());
const bool = nullAsAbsent(z.boolean({ error: mustBe }).optional());
/** Ollama wants an array; a lone string is accepted too, as one stop sequence. */
const stop = nullAsAbsent(
  z.union([z.string().transform((s) => [s]), z.array(z.string())], { error: mustBeOneOf("a string or an array of strings") }).optional(),
);

export const ModelOptionsShape = {
  // runtime options: applied per request
  /** random seed; -1 or absent = random */
  seed: int,
  /** maximum tokens to generate; -1 = no limit (bounded by the context), -2 = fill the context */
  num_predict: int,
  /** sample from the k most likely tokens (Ollama default 40) */
  top_k: int,
  /** nucleus sampling threshold (default 0.9) */
  top_p: num,
  /** minimum probability relative to the most likely token (default 0) */
  min_p: num,
  /** locally typical sampling (not supported by the engine; accepted and logged) */
  typical_p: num,
  /** how many recent tokens the repeat penalties look at (default 64; 0 = off, -1 = num_ctx) */
  repeat_last_n: int,
  /** sampling temperature (default 0.8; 0 = greedy) */
  temperature: num,
  /** penalty for repeated tokens (default 1.0 = none) */
  repeat_penalty: num,
  /** flat penalty for any token already present */
  presence_penalty: num,
  /** penalty proportional to how often a token appeared */
  frequency_penalty: num,
  /** stop sequences; generation ends before any of them */
  stop,
  /** tokens kept when the context shifts (not supported by the engine; accepted and logged) */
  num_keep: int,
  // load-time options: a change means the model is loaded again
  /** context size per sequence */
  num_ctx: int,
  /** prompt-processing batch size */
  num_batch: int,
  /** layers to offload to the GPU */
  num_gpu: int,
  /** GPU used for small tensors */
  main_gpu: int,
  /** memory-map the model file */
  use_mmap: bool,
  /** CPU threads for generation */
  num_thread: int,
} as const;

export const ModelOptions = z.object(ModelOptionsShape, { error: mustBe });
export type ModelOptions = z.infer<typeof ModelOptions>;

export const KNOWN_OPTION_KEYS: ReadonlySet<string> = new Set(Object.keys(ModelOptionsShape));

/** Keys of a raw `options` object that Ollama's contract does not know. */
export function unknownOptionKeys(raw: unknown): string[] {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return [];
  return Object.keys(raw).filter((key) => !KNOWN_OPTION_KEYS.has(key));
}
