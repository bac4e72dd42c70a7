import { describe, expect, it } from "vitest";
import type { ModelOptions } from "@caravan/protocol";
import { loadSettingsKey, MAX_CONTEXT_UNKNOWN_TRAINING, MAX_NUM_BATCH, resolveLoadSettings, toLoadSettings, type LoadSettings } from "./load-options.ts";

const CPU = { defaultNumCtx: 4096, threads: 2, sequences: 4, gpu: false };
const GPU = { ...CPU, gpu: true };
/** stories260K's shape: trained on 2048 tokens, 5 blocks */
const MODEL = { contextLength: 2048, layerCount: 5 };
const BASE: LoadSettings = { contextSize: 2048, batchSize: 512, threads: 2, useMmap: undefined, gpuLayers: undefined };

describe("toLoadSettings", () => {
  it.each<[string, ModelOptions, { contextLength: number; layerCount: number }, typeof CPU, Partial<LoadSettings>]>([
    ["default num_ctx capped by the trained context", {}, MODEL, CPU, {}],
    ["default num_ctx below the trained context", {}, { contextLength: 32768, layerCount: 5 }, CPU, { contextSize: 4096 }],
    ["unknown trained context", {}, { contextLength: 0, layerCount: 0 }, CPU, { contextSize: 4096 }],
    ["num_ctx past the trained context is clamped to it (as Ollama does)", { num_ctx: 8192 }, MODEL, CPU, {}],
    ["num_ctx 1e12 is clamped to the trained context", { num_ctx: 1e12 }, MODEL, CPU, {}],
    ["num_ctx 1e12 with no trained context: the fixed ceiling", { num_ctx: 1e12 }, { contextLength: 0, layerCount: 0 }, CPU, { contextSize: MAX_CONTEXT_UNKNOWN_TRAINING, batchSize: 512 }],
    ["num_ctx 0 means default", { num_ctx: 0 }, MODEL, CPU, {}],
    ["a negative num_ctx means default", { num_ctx: -5 }, MODEL, CPU, {}],
    ["a small num_ctx is kept; the default batch fits it", { num_ctx: 64 }, MODEL, CPU, { contextSize: 64, batchSize: 256 }],
    ["num_batch, num_thread, use_mmap", { num_batch: 64, num_thread: 1, use_mmap: false }, MODEL, CPU, { batchSize: 64, threads: 1, useMmap: false }],
    ["num_batch 1e9 is at most the context", { num_batch: 1e9 }, MODEL, CPU, { batchSize: 2048 }],
    ["num_batch is at most MAX_NUM_BATCH", { num_batch: 1e9 }, { contextLength: 32768, layerCount: 5 }, CPU, { contextSize: 4096, batchSize: MAX_NUM_BATCH }],
    ["num_batch 0 or negative means default", { num_batch: -3 }, MODEL, CPU, {}],
    ["num_thread past the worker's threads is capped", { num_thread: 64 }, MODEL, CPU, {}],
    ["num_thread 0 means default", { num_thread: 0 }, MODEL, CPU, {}],
    ["num_gpu means nothing without a GPU", { num_gpu: 10 }, MODEL, CPU, {}],
    ["num_gpu with a GPU", { num_gpu: 3 }, MODEL, GPU, { gpuLayers: 3 }],
    ["num_gpu past the model's layers means all of them", { num_gpu: 999999 }, MODEL, GPU, { gpuLayers: 6 }],
    ["num_gpu -1 = auto", { num_gpu: -1 }, MODEL, GPU, {}],
    ["sampling options do not matter", { temperature: 0, seed: 3, num_predict: 5 }, MODEL, CPU, {}],
  ])("%s", (_name, options, model, defaults, expected) => {
    expect(toLoadSettings(options, model, defaults)).toEqual({ ...BASE, ...expected });
  });

  it("names every option it brought within bounds, with what was asked and what is used", () => {
    const { adjustments } = resolveLoadSettings({ num_ctx: 1e12, num_batch: 1e9, num_thread: 64, num_gpu: 100 }, MODEL, GPU);
    expect(adjustments.map(({ option, asked, used }) => ({ option, asked, used }))).toEqual([
      { option: "num_ctx", asked: 1e12, used: 2048 },
      { option: "num_batch", asked: 1e9, used: 2048 },
      { option: "num_thread", asked: 64, used: 2 },
      { option: "num_gpu", asked: 100, used: 6 },
    ]);
    expect(adjustments[0]!.why).toContain("trained context is 2048");
    expect(resolveLoadSettings({ num_ctx: 512 }, MODEL, CPU).adjustments).toEqual([]);
  });
});

describe("loadSettingsKey", () => {
  it("tells every field apart", () => {
    expect(loadSettingsKey(BASE)).toBe(loadSettingsKey({ ...BASE }));
    for (const change of [{ contextSize: 512 }, { batchSize: 8 }, { threads: 1 }, { useMmap: true }, { gpuLayers: 0 }]) {
      expect(loadSettingsKey({ ...BASE, ...change })).not.toBe(loadSettingsKey(BASE));
    }
  });

  it("a clamped num_ctx is the same load as the default: no reload", () => {
    expect(loadSettingsKey(toLoadSettings({ num_ctx: 1e12 }, MODEL, CPU))).toBe(loadSettingsKey(toLoadSettings({}, MODEL, CPU)));
  });
});
