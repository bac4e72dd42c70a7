import type { ModelOptions } from "@caravan/protocol";
import type { CatalogEntry } from "../catalog/catalog.ts";
import type { LoadPlan } from "./load-plan.ts";
import type { CompleteRequest, EmbedRequest, EmbedResult, GenerateRequest, GenerateResult } from "./types.ts";

/**
 * What the worker, its job runner and its residency need from an engine. Two implementations:
 * LlamaEngine (node-llama-cpp, the default) and SimulatedEngine (timers instead of a model, for
 * load tests only; selected with CARAVAN_ENGINE=simulated).
 */
export interface Engine {
  /** "llama" or "simulated": shown in the worker's state, /api/ps, logs and metrics */
  readonly name: string;
  generate(req: GenerateRequest): Promise<GenerateResult>;
  complete(req: CompleteRequest): Promise<GenerateResult>;
  embed(req: EmbedRequest): Promise<EmbedResult>;
  /** loads the model with these load options if it is not loaded so */
  ensureLoaded(entry: CatalogEntry, options: ModelOptions): Promise<{ loadDurationNs: number; contextSize: number }>;
  /** unloads once its requests are done; unknown names are a no-op */
  unload(name: string): Promise<void>;
  device(): Promise<{ gpu: boolean; vram?: { total: number; used: number } }>;
  /**
   * What loading the model with these options would take, before anything is allocated: the load
   * settings (every size within its bounds, see load-options.ts) and the memory of the copy.
   */
  planLoad(entry: CatalogEntry, options: ModelOptions): LoadPlan;
  /** names of the models in memory now, sorted */
  loaded(): string[];
  /** idempotent */
  close(): Promise<void>;
}
