import { describe, expect, it } from "vitest";
import type { ModelOptions } from "@caravan/protocol";
import { toSamplingSettings, type SamplingSettings } from "./sampling.ts";

const CTX = 2048;
const fixedSeed = () => 1234;

const DEFAULTS: SamplingSettings = {
  temperature: 0.8,
  topK: 40,
  topP: 0.9,
  minP: 0,
  seed: 1234,
  maxTokens: CTX,
  stopWhenContextFull: false,
  customStopTriggers: undefined,
  repeatPenalty: false,
};

describe("toSamplingSettings", () => {
  it.each<[string, ModelOptions, Partial<SamplingSettings>]>([
    ["Ollama's defaults", {}, {}],
    ["temperature 0 is greedy", { temperature: 0 }, { temperature: 0 }],
    ["negative temperature is greedy", { temperature: -1 }, { temperature: 0 }],
    ["top_k, top_p, min_p pass through", { top_k: 5, top_p: 0.5, min_p: 0.05 }, { topK: 5, topP: 0.5, minP: 0.05 }],
    ["negative top_k = whole vocabulary", { top_k: -1 }, { topK: 0 }],
    ["a seed is kept", { seed: 42 }, { seed: 42 }],
    ["seed 0 is a seed", { seed: 0 }, { seed: 0 }],
    ["seed -1 draws one", { seed: -1 }, { seed: 1234 }],
    ["other negative seeds wrap to uint32", { seed: -5 }, { seed: 4294967291 }],
    ["num_predict n", { num_predict: 7 }, { maxTokens: 7 }],
    ["num_predict -1: one context at most", { num_predict: -1 }, { maxTokens: CTX }],
    ["num_predict 0 is no limit, as in Ollama's runner", { num_predict: 0 }, { maxTokens: CTX }],
    ["num_predict -2 fills the context", { num_predict: -2 }, { maxTokens: undefined, stopWhenContextFull: true }],
    ["stop sequences", { stop: ["\n", "The end"] }, { customStopTriggers: ["\n", "The end"] }],
    ["empty stop strings are dropped", { stop: ["", "x"] }, { customStopTriggers: ["x"] }],
    ["no stop strings left", { stop: [""] }, { customStopTriggers: undefined }],
    ["repeat_penalty 1 is off", { repeat_penalty: 1 }, { repeatPenalty: false }],
    [
      "repeat_penalty on, default window 64",
      { repeat_penalty: 1.1 },
      { repeatPenalty: { penalty: 1.1, presencePenalty: 0, frequencyPenalty: 0, lastTokens: 64 } },
    ],
    [
      "presence and frequency penalties alone turn penalties on",
      { presence_penalty: 0.5, frequency_penalty: 0.25, repeat_last_n: 32 },
      { repeatPenalty: { penalty: 1, presencePenalty: 0.5, frequencyPenalty: 0.25, lastTokens: 32 } },
    ],
    [
      "repeat_last_n -1 = the context",
      { repeat_penalty: 1.2, repeat_last_n: -1 },
      { repeatPenalty: { penalty: 1.2, presencePenalty: 0, frequencyPenalty: 0, lastTokens: CTX } },
    ],
    ["repeat_last_n 0 turns penalties off", { repeat_penalty: 1.2, repeat_last_n: 0 }, { repeatPenalty: false }],
  ])("%s", (_name, options, expected) => {
    expect(toSamplingSettings(options, CTX, fixedSeed).settings).toEqual({ ...DEFAULTS, ...expected });
  });

  it.each<[ModelOptions, string[]]>([
    [{}, []],
    [{ typical_p: 0.7, num_keep: 4, main_gpu: 0 }, ["typical_p", "num_keep", "main_gpu"]],
    [{ temperature: 0.1, num_ctx: 512, num_thread: 2, use_mmap: false }, []],
  ])("reports unsupported options %j → %j", (options, ignored) => {
    expect(toSamplingSettings(options, CTX, fixedSeed).ignored).toEqual(ignored);
  });

  it("draws a fresh non-negative seed when none is given", () => {
    const seeds = new Set(Array.from({ length: 20 }, () => toSamplingSettings({}, CTX).settings.seed));
    expect(seeds.size).toBeGreaterThan(1);
    for (const seed of seeds) expect(Number.isInteger(seed) && seed >= 0).toBe(true);
  });
});
