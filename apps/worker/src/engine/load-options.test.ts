import { describe, expect, it } from "vitest";
import type { ModelOptions } from "@caravan/protocol";
import { sameLoadSettings, toLoadSettings, type LoadSettings } from "./load-options.ts";

const CPU = { defaultNumCtx: 4096, threads: 1, gpu: false };
const GPU = { ...CPU, gpu: true };
const BASE: LoadSettings = { contextSize: 2048, batchSize: undefined, threads: 1, useMmap: undefined, gpuLayers: undefined };

describe("toLoadSettings", () => {
  it.each<[string, ModelOptions, number, typeof CPU, Partial<LoadSettings>]>([
    ["default num_ctx capped by the trained context", {}, 2048, CPU, {}],
    ["default num_ctx below the trained context", {}, 32768, CPU, { contextSize: 4096 }],
    ["unknown trained context", {}, 0, CPU, { contextSize: 4096 }],
    ["num_ctx wins, even past the trained context", { num_ctx: 8192 }, 2048, CPU, { contextSize: 8192 }],
    ["num_ctx 0 means default", { num_ctx: 0 }, 2048, CPU, {}],
    ["num_batch, num_thread, use_mmap", { num_batch: 64, num_thread: 2, use_mmap: false }, 2048, CPU, { batchSize: 64, threads: 2, useMmap: false }],
    ["num_gpu means nothing without a GPU", { num_gpu: 10 }, 2048, CPU, {}],
    ["num_gpu with a GPU", { num_gpu: 10 }, 2048, GPU, { gpuLayers: 10 }],
    ["num_gpu -1 = auto", { num_gpu: -1 }, 2048, GPU, {}],
    ["sampling options do not matter", { temperature: 0, seed: 3, num_predict: 5 }, 2048, CPU, {}],
  ])("%s", (_name, options, trained, defaults, expected) => {
    expect(toLoadSettings(options, trained, defaults)).toEqual({ ...BASE, ...expected });
  });
});

describe("sameLoadSettings", () => {
  it("compares every field", () => {
    expect(sameLoadSettings(BASE, { ...BASE })).toBe(true);
    for (const change of [{ contextSize: 512 }, { batchSize: 8 }, { threads: 2 }, { useMmap: true }, { gpuLayers: 0 }])
      expect(sameLoadSettings(BASE, { ...BASE, ...change })).toBe(false);
  });
});
