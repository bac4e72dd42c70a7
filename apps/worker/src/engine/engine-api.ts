import type { ModelOptions } from "@caravan/protocol";
import type { CatalogEntry } from "../catalog/catalog.ts";
import type { LoadFacts } from "../residency/residency.ts";
import type { LoadSettings } from "./load-options.ts";
import type { LoadPlan } from "./load-plan.ts";
import type { CompleteRequest, EmbedRequest, EmbedResult, GenerateRequest, GenerateResult } from "./types.ts";

/**
 * One model in memory with fixed load settings: what an engine's load() gives back. It serves
 * every request it is handed until disposed; a request that finds all its sequences busy waits
 * for one. Whether it stays loaded, who uses it and when it goes are the worker's residency's to
 * decide, not the model's.
 *
 * Aborts: a request whose signal aborts rejects with GenerationAbortedError (name "AbortError",
 * code "cancelled") whether it was waiting or generating; the text it produced so far has already
 * gone out through onText, and the error's `partial` holds it with its metrics. Its sequence is
 * free again at once. Results carry load_duration 0: the load is the residency's to charge.
 */
export interface LoadedModel {
  /** the catalog name */
  readonly name: string;
  /** per-sequence context size, after the engine's rounding */
  readonly contextSize: number;
  /** sequences: requests that generate at once */
  readonly slots: number;
  /** nanoseconds the load took (a runner process's start included) */
  readonly loadDurationNs: number;
  generate(req: GenerateRequest): Promise<GenerateResult>;
  /** continues raw text (no chat template); with `suffix`, fills in the middle */
  complete(req: CompleteRequest): Promise<GenerateResult>;
  embed(req: EmbedRequest): Promise<EmbedResult>;
  /** Frees the model; requests still waiting or running reject with EngineClosedError. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * What the worker needs from an engine: it turns a catalog entry and load settings into a
 * LoadedModel, and no more. Three implementations: LlamaEngine (node-llama-cpp in this process),
 * IsolatedEngine (each model in a runner process of its own, the default) and SimulatedEngine
 * (timers instead of a model, for load tests only; CARAVAN_ENGINE=simulated).
 */
export interface Engine {
  /** "llama" or "simulated": shown in the worker's state, /api/ps, logs and metrics */
  readonly name: string;
  /** Loads the model; rejects with an EngineError when it cannot (EngineClosedError once closed). */
  load(entry: CatalogEntry, settings: LoadSettings): Promise<LoadedModel>;
  device(): Promise<{ gpu: boolean; vram?: { total: number; used: number } }>;
  /**
   * What loading the model with these options would take, before anything is allocated: the load
   * settings (every size within its bounds, see load-options.ts) and the memory of the copy.
   */
  planLoad(entry: CatalogEntry, options: ModelOptions): LoadPlan;
  /** Disposes every model it loaded (their requests reject with EngineClosedError), then itself. Safe to call twice. */
  close(): Promise<void>;
}

/** Loads `entry` with the load settings `options` ask for; what residency keeps of the copy. */
export async function loadCopy(engine: Engine, entry: CatalogEntry, options: ModelOptions): Promise<LoadFacts<LoadedModel>> {
  const plan = engine.planLoad(entry, options);
  const handle = await engine.load(entry, plan.settings);
  return { handle, loadDurationNs: handle.loadDurationNs, sizeBytes: plan.bytes, contextLength: handle.contextSize, slots: handle.slots };
}
