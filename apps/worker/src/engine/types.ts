import type { ChatMessage, Format, ModelOptions, WorkerMetrics } from "@caravan/protocol";
import type { CatalogEntry } from "../catalog/catalog.ts";

export type EngineLogLevel = "debug" | "info" | "warn" | "error";
export type EngineLog = (level: EngineLogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface EngineConfig {
  /** CPU threads per context; on a 2-core machine 1 is fastest (4, the library default, collapses) */
  threads: number;
  /** sequences per loaded model: how many requests for one model run at once */
  numParallel: number;
  gpu: false | "auto" | "cuda" | "vulkan" | "metal";
  /** num_ctx when a request does not set it, capped at the model's trained context (Ollama: 4096) */
  defaultNumCtx: number;
  log?: EngineLog;
}

export interface GenerateRequest {
  entry: CatalogEntry;
  messages: ChatMessage[];
  options: ModelOptions;
  /** constrain the output: "json" or a JSON schema, enforced by a grammar ("" = none) */
  format?: Format;
  /** aborts waiting and generation; the call then rejects with GenerationAbortedError */
  signal: AbortSignal;
  /** each piece of text as soon as it exists */
  onText: (text: string) => void;
}

export interface GenerateResult {
  /** "length": num_predict or the context ran out; "stop": EOS or a stop sequence */
  doneReason: "stop" | "length";
  /** the whole generated text (what onText delivered) */
  text: string;
  /** nanoseconds, integers */
  metrics: WorkerMetrics;
}
