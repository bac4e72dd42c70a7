import type { ModelOptions } from "@caravan/protocol";
import type { CatalogEntry } from "../catalog/catalog.ts";
import { estimateModelBytes } from "../residency/memory.ts";
import { loadSettingsKey, resolveLoadSettings, type LoadAdjustment, type LoadDefaults, type LoadSettings } from "./load-options.ts";
import type { EngineConfig } from "./types.ts";

/** What loading a model with a request's options would take, worked out before anything is allocated. */
export interface LoadPlan {
  settings: LoadSettings;
  /** loadSettingsKey(settings): copies with the same key can serve each other's requests */
  key: string;
  /** estimated memory of the loaded copy (see residency/memory.ts), bytes */
  bytes: number;
  /** options brought within their bounds */
  adjustments: LoadAdjustment[];
}

/** The plan for a GGUF model run by node-llama-cpp (in this process or in a runner), with the engine's config as defaults. */
export function planLlamaLoad(entry: CatalogEntry, options: ModelOptions, config: Pick<EngineConfig, "defaultNumCtx" | "threads" | "numParallel" | "gpu">): LoadPlan {
  const defaults: LoadDefaults = { defaultNumCtx: config.defaultNumCtx, threads: config.threads, sequences: config.numParallel, gpu: config.gpu !== false };
  const { settings, adjustments } = resolveLoadSettings(options, entry, defaults);
  return { settings, key: loadSettingsKey(settings), bytes: estimateModelBytes(entry, settings.contextSize, defaults.sequences), adjustments };
}
