import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findModel, scanModels, type CatalogEntry } from "../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../catalog/test-models.ts";
import { LlamaEngine } from "./engine.ts";

// A real engine with 4 sequences on stories260K (1 thread).
let engine: LlamaEngine;
let stories: CatalogEntry;

beforeAll(async () => {
  stories = findModel(await scanModels(TEST_MODELS_DIR), "stories260K")!;
  engine = await LlamaEngine.create({ threads: 1, numParallel: 4, gpu: false, defaultNumCtx: 2048, log: () => {} });
});

afterAll(async () => {
  await engine?.close();
});

const generate = (prompt: string) =>
  engine.generate({ entry: stories, messages: [{ role: "user", content: prompt }], options: { temperature: 0, num_predict: 64 }, signal: new AbortController().signal, onText: () => {} });

describe("LlamaEngine sequences in step", () => {
  it("decodes requests that arrive apart together, and each answers as it would alone", async () => {
    const prompts = ["Once upon a time", "The cat", "Tom had a ball", "In the big forest"];
    const solo: string[] = [];
    for (const prompt of prompts) solo.push((await generate(prompt)).text);

    const before = engine.stepCounts(stories.name)!;
    // Requests reach the engine one after another (over HTTP ~0.5–1 ms apart); without the
    // barrier node-llama-cpp keeps such sequences in separate decodes for their whole length.
    const runs = await Promise.all(prompts.map((prompt, i) => new Promise((resolve) => setTimeout(resolve, 2 * i)).then(() => generate(prompt))));
    const after = engine.stepCounts(stories.name)!;

    expect(runs.map((r) => r.text)).toEqual(solo);
    const rounds = after.rounds - before.rounds;
    const stepped = after.stepped - before.stepped;
    // one decode per sampled token (the first one with the prompt), each through the barrier
    expect(stepped).toBe(runs.reduce((sum, r) => sum + r.metrics.eval_count, 0));
    // 4 × 64 decodes: alone for the first few, then together. Were each arrival its own round, the mean would be 1.
    expect(stepped / rounds).toBeGreaterThan(3);
  });

  it("keeps raw completions and requests with logprobs in step as well", async () => {
    const complete = (prompt: string, logprobs: boolean) =>
      engine.complete({ entry: stories, prompt, options: { temperature: 0, num_predict: 64 }, signal: new AbortController().signal, onText: () => {}, logprobs, topLogprobs: logprobs ? 2 : undefined, onLogprob: () => {} });
    const prompts = ["Once upon a time", "The cat", "Tom had a ball", "In the big forest"];
    const solo: string[] = [];
    for (const [i, prompt] of prompts.entries()) solo.push((await complete(prompt, i % 2 === 1)).text);

    const before = engine.stepCounts(stories.name)!;
    const runs = await Promise.all(prompts.map((prompt, i) => new Promise((resolve) => setTimeout(resolve, 2 * i)).then(() => complete(prompt, i % 2 === 1))));
    const after = engine.stepCounts(stories.name)!;

    expect(runs.map((r) => r.text)).toEqual(solo);
    const stepped = after.stepped - before.stepped;
    expect(stepped).toBe(runs.reduce((sum, r) => sum + r.metrics.eval_count, 0));
    expect(stepped / (after.rounds - before.rounds)).toBeGreaterThan(3);
  });
});
