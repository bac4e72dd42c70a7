import type { ModelOptions } from "@caravan/protocol";

/**
 * The settings a loaded model and its context are built with. Two requests whose load settings
 * differ cannot share a context: the model is loaded again (as Ollama does on a load-option change).
 */
export interface LoadSettings {
  /** per-sequence context size (node-llama-cpp rounds it up to a multiple of 256) */
  contextSize: number;
  /** undefined: the library's default */
  batchSize: number | undefined;
  threads: number;
  /** undefined: "auto" */
  useMmap: boolean | undefined;
  /** undefined: "auto"; always undefined without a GPU, where it means nothing */
  gpuLayers: number | undefined;
}

export interface LoadDefaults {
  /** the engine's default num_ctx (Ollama: 4096) */
  defaultNumCtx: number;
  /** the engine's threads */
  threads: number;
  gpu: boolean;
}

/** Load-time Ollama options → LoadSettings. `trainedContext` 0 = unknown. */
export function toLoadSettings(options: ModelOptions, trainedContext: number, defaults: LoadDefaults): LoadSettings {
  const fallbackCtx = trainedContext > 0 ? Math.min(defaults.defaultNumCtx, trainedContext) : defaults.defaultNumCtx;
  return {
    contextSize: positive(options.num_ctx) ?? fallbackCtx,
    batchSize: positive(options.num_batch),
    threads: positive(options.num_thread) ?? defaults.threads,
    useMmap: options.use_mmap,
    gpuLayers: defaults.gpu && options.num_gpu !== undefined && options.num_gpu >= 0 ? options.num_gpu : undefined,
  };
}

export function sameLoadSettings(a: LoadSettings, b: LoadSettings): boolean {
  return (
    a.contextSize === b.contextSize &&
    a.batchSize === b.batchSize &&
    a.threads === b.threads &&
    a.useMmap === b.useMmap &&
    a.gpuLayers === b.gpuLayers
  );
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined;
}
