import type { ModelOptions } from "@caravan/protocol";

/** Per-request generation settings in node-llama-cpp's terms (a subset of LLamaChatGenerateResponseOptions). */
export interface SamplingSettings {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  seed: number;
  /** undefined: bounded by the context (see `stopWhenContextFull`) */
  maxTokens: number | undefined;
  /** num_predict -2: end with "length" as soon as the sequence's context is full, never shift it */
  stopWhenContextFull: boolean;
  customStopTriggers: string[] | undefined;
  repeatPenalty: false | { penalty: number; presencePenalty: number; frequencyPenalty: number; lastTokens: number };
}

export interface SamplingMapping {
  settings: SamplingSettings;
  /** options the request set that the engine cannot honour; the caller logs them */
  ignored: string[];
}

// Ollama's defaults (api/types.go DefaultOptions).
const DEFAULTS = { temperature: 0.8, top_k: 40, top_p: 0.9, min_p: 0, repeat_penalty: 1, repeat_last_n: 64 } as const;

/** Options the engine (node-llama-cpp 3.22) has no equivalent for. */
const UNSUPPORTED: readonly (keyof ModelOptions)[] = ["typical_p", "num_keep", "main_gpu"];

/** Largest seed the sampler takes (uint32). */
const MAX_SEED = 0xffff_ffff;

/**
 * Ollama options → node-llama-cpp generation options. Pure: `randomSeed` is injected.
 * `contextSize` is the per-sequence context the request runs in (num_predict -1 and repeat_last_n -1 use it).
 */
export function toSamplingSettings(
  options: ModelOptions,
  contextSize: number,
  randomSeed: () => number = drawRandomSeed,
): SamplingMapping {
  const penalty = options.repeat_penalty ?? DEFAULTS.repeat_penalty;
  const presencePenalty = options.presence_penalty ?? 0;
  const frequencyPenalty = options.frequency_penalty ?? 0;
  const repeatLastN = options.repeat_last_n ?? DEFAULTS.repeat_last_n;
  const lastTokens = repeatLastN < 0 ? contextSize : repeatLastN;
  // node-llama-cpp's own default penalty is 1.1; Ollama's is 1.0 (off), so say "off" explicitly.
  const penaltiesOff = lastTokens === 0 || (penalty === 1 && presencePenalty === 0 && frequencyPenalty === 0);

  const numPredict = options.num_predict ?? -1;
  const stop = options.stop?.filter((s) => s.length > 0);

  return {
    settings: {
      temperature: Math.max(0, options.temperature ?? DEFAULTS.temperature),
      topK: Math.max(0, options.top_k ?? DEFAULTS.top_k),
      topP: options.top_p ?? DEFAULTS.top_p,
      minP: options.min_p ?? DEFAULTS.min_p,
      seed: resolveSeed(options.seed, randomSeed),
      // -1 (and 0, which Ollama's runner also treats as "no limit"): at most one context's worth;
      // -2: until the context is full. Either way generation is bounded by the context.
      maxTokens: numPredict > 0 ? numPredict : numPredict === -2 ? undefined : contextSize,
      stopWhenContextFull: numPredict === -2,
      customStopTriggers: stop && stop.length > 0 ? stop : undefined,
      repeatPenalty: penaltiesOff ? false : { penalty, presencePenalty, frequencyPenalty, lastTokens },
    },
    ignored: UNSUPPORTED.filter((key) => options[key] !== undefined),
  };
}

/**
 * Ollama: seed -1 or absent = random. node-llama-cpp would use the current second instead (two
 * requests in one second would sample alike) and clamps negatives to 0, so draw one here.
 * Other negatives wrap to uint32 as Ollama's C cast does.
 */
function resolveSeed(seed: number | undefined, randomSeed: () => number): number {
  if (seed === undefined || seed === -1) return randomSeed();
  if (seed < 0) return seed >>> 0;
  return Math.min(seed, MAX_SEED);
}

export function drawRandomSeed(): number {
  return Math.floor(Math.random() * 0x8000_0000);
}

/** The settings as the options LlamaChat.generateResponse and LlamaCompletion both take. */
export function samplingOptions(sampling: SamplingSettings) {
  return {
    temperature: sampling.temperature,
    topK: sampling.topK,
    topP: sampling.topP,
    minP: sampling.minP,
    seed: sampling.seed,
    repeatPenalty: sampling.repeatPenalty,
    ...(sampling.maxTokens !== undefined && { maxTokens: sampling.maxTokens }),
    ...(sampling.customStopTriggers !== undefined && { customStopTriggers: sampling.customStopTriggers }),
  };
}
