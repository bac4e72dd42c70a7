import type { ModelOptions } from "@caravan/protocol";

/**
 * The settings a loaded model and its context are built with. Two requests whose load settings
 * differ cannot share a context: the model is loaded again (as Ollama does on a load-option change).
 */
export interface LoadSettings {
  /** per-sequence context size (node-llama-cpp rounds it up to a multiple of 256) */
  contextSize: number;
  /** tokens decoded per batch, shared by the context's sequences (llama.cpp's n_batch = n_ubatch) */
  batchSize: number;
  threads: number;
  /** undefined: "auto" */
  useMmap: boolean | undefined;
  /** undefined: "auto"; always undefined without a GPU, where it means nothing */
  gpuLayers: number | undefined;
}

export interface LoadDefaults {
  /** the engine's default num_ctx (Ollama: 4096) */
  defaultNumCtx: number;
  /** the engine's threads: also the most a request may ask for (node-llama-cpp caps contexts at it) */
  threads: number;
  /** sequences per loaded model (the default batch covers them all, as node-llama-cpp's does) */
  sequences: number;
  gpu: boolean;
}

/** What the load settings are derived from: the model's own facts, from its GGUF header. */
export interface ModelShape {
  /** context length it was trained with; 0 = unknown */
  contextLength: number;
  /** transformer blocks (GPU-offloadable layers less the output layer); 0 = unknown */
  layerCount: number;
}

/**
 * num_ctx when the model does not say how long its trained context is: a generous bound that
 * still keeps one request from sizing a KV cache by the terabyte (the memory budget decides the rest).
 */
export const MAX_CONTEXT_UNKNOWN_TRAINING = 131_072;
/**
 * The largest num_batch. node-llama-cpp makes llama.cpp's micro-batch as large as the batch, and
 * llama.cpp's compute buffers grow with it (attention scores alone are batch × context × heads
 * floats), so a batch of millions would allocate gigabytes. llama.cpp's own default is 2048.
 */
export const MAX_NUM_BATCH = 2048;
/** node-llama-cpp's default batch, when num_batch is not given: min(context × sequences, 512) */
const DEFAULT_BATCH = 512;
/** layers when the header does not say: more than any model has, so "all" still means all */
const MAX_GPU_LAYERS = 1024;

/** An option a request asked for that was brought within its bounds; the worker logs it. */
export interface LoadAdjustment {
  option: "num_ctx" | "num_batch" | "num_thread" | "num_gpu";
  asked: number;
  used: number;
  why: string;
}

/**
 * Load-time Ollama options → LoadSettings, every size bounded before anything is allocated:
 * - num_ctx: absent, zero or negative = the default (CARAVAN_CONTEXT_LENGTH, at most the trained
 *   context); above the trained context = the trained context (as Ollama clamps it, with a
 *   warning); unknown training: at most MAX_CONTEXT_UNKNOWN_TRAINING.
 * - num_batch: absent or ≤ 0 = node-llama-cpp's default; at most the context and MAX_NUM_BATCH.
 * - num_thread: absent or ≤ 0 = the worker's threads; at most those (node-llama-cpp caps there anyway).
 * - num_gpu (GPU only): negative = auto; at most the model's layers + 1 (all of them).
 * Non-integers are rounded down. `adjustments` lists what was changed from what was asked.
 */
export function resolveLoadSettings(options: ModelOptions, model: ModelShape, defaults: LoadDefaults): { settings: LoadSettings; adjustments: LoadAdjustment[] } {
  const adjustments: LoadAdjustment[] = [];
  const bound = (option: LoadAdjustment["option"], asked: number, max: number, why: string): number => {
    const used = Math.min(Math.floor(asked), max);
    if (used !== asked) adjustments.push({ option, asked, used, why });
    return used;
  };

  const trained = model.contextLength;
  const ctxCeiling = trained > 0 ? trained : MAX_CONTEXT_UNKNOWN_TRAINING;
  const defaultCtx = Math.min(defaults.defaultNumCtx, ctxCeiling);
  const askedCtx = positive(options.num_ctx);
  const contextSize =
    askedCtx === undefined
      ? defaultCtx
      : bound("num_ctx", askedCtx, ctxCeiling, trained > 0 ? `the model's trained context is ${trained}` : `the model does not say its trained context; the limit is ${ctxCeiling}`);

  const batchCeiling = Math.max(1, Math.min(contextSize, MAX_NUM_BATCH));
  const askedBatch = positive(options.num_batch);
  const batchSize =
    askedBatch === undefined
      ? Math.min(contextSize * defaults.sequences, DEFAULT_BATCH)
      : Math.max(1, bound("num_batch", askedBatch, batchCeiling, `at most the context (${contextSize}) and ${MAX_NUM_BATCH}`));

  const askedThreads = positive(options.num_thread);
  const threads = askedThreads === undefined ? defaults.threads : Math.max(1, bound("num_thread", askedThreads, defaults.threads, `this worker runs at most ${defaults.threads} (CARAVAN_THREADS)`));

  let gpuLayers: number | undefined;
  if (defaults.gpu && options.num_gpu !== undefined && options.num_gpu >= 0) {
    const layers = model.layerCount > 0 ? model.layerCount + 1 : MAX_GPU_LAYERS;
    gpuLayers = bound("num_gpu", options.num_gpu, layers, `the model has ${layers} offloadable layers`);
  }

  return { settings: { contextSize, batchSize, threads, useMmap: options.use_mmap, gpuLayers }, adjustments };
}

/** resolveLoadSettings() without the adjustments. */
export function toLoadSettings(options: ModelOptions, model: ModelShape, defaults: LoadDefaults): LoadSettings {
  return resolveLoadSettings(options, model, defaults).settings;
}

/** One string per distinct LoadSettings: residency compares copies by it. */
export function loadSettingsKey(s: LoadSettings): string {
  return `ctx=${s.contextSize} batch=${s.batchSize} threads=${s.threads} mmap=${s.useMmap ?? "auto"} gpu=${s.gpuLayers ?? "auto"}`;
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? value : undefined;
}
