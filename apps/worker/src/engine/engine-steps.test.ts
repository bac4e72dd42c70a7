import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findModel, scanModels } from "../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../catalog/test-models.ts";
import { loadModel } from "../testing/engines.ts";
import { LlamaEngine } from "./engine.ts";
import type { LlamaLoadedModel } from "./loaded-model.ts";

// A real engine with 4 sequences on stories260K (1 thread).
let engine: LlamaEngine;
let model: LlamaLoadedModel;

beforeAll(async () => {
  const stories = findModel(await scanModels(TEST_MODELS_DIR), "stories260K")!;
  engine = await LlamaEngine.create({ threads: 1, numParallel: 4, gpu: false, defaultNumCtx: 2048, log: () => {} });
  model = await loadModel(engine, stories);
});

afterAll(async () => {
  await engine?.close();
});

const stepCounts = () => ({ rounds: model.steps.rounds, stepped: model.steps.stepped });

const PROMPTS = ["Once upon a time", "The cat", "Tom had a ball", "In the big forest"];

/**
 * Runs each prompt alone, then all of them started 2 ms apart, as requests reach the engine one
 * after another (over HTTP ~0.5–1 ms apart): the concurrent answers, the solo ones, and the
 * barrier's rounds and sequences stepped during the concurrent run.
 */
async function aloneThenApart(run: (prompt: string, i: number) => Promise<{ text: string; metrics: { eval_count: number } }>) {
  const solo: string[] = [];
  for (const [i, prompt] of PROMPTS.entries()) solo.push((await run(prompt, i)).text);
  const before = stepCounts();
  const runs = await Promise.all(PROMPTS.map((prompt, i) => new Promise((resolve) => setTimeout(resolve, 2 * i)).then(() => run(prompt, i))));
  const after = stepCounts();
  return { runs, solo, rounds: after.rounds - before.rounds, stepped: after.stepped - before.stepped };
}

const generate = (prompt: string) =>
  model.generate({ messages: [{ role: "user", content: prompt }], options: { temperature: 0, num_predict: 64 }, signal: new AbortController().signal, onText: () => {} });

describe("LlamaEngine sequences in step", () => {
  it("decodes requests that arrive apart together, and each answers as it would alone", async () => {
    // without the barrier node-llama-cpp keeps sequences that started apart in separate decodes for their whole length
    const { runs, solo, rounds, stepped } = await aloneThenApart(generate);
    expect(runs.map((r) => r.text)).toEqual(solo);
    // one decode per sampled token (the first one with the prompt), each through the barrier
    expect(stepped).toBe(runs.reduce((sum, r) => sum + r.metrics.eval_count, 0));
    // 4 × 64 decodes: alone for the first few, then together. Were each arrival its own round, the mean would be 1.
    expect(stepped / rounds).toBeGreaterThan(3);
  });

  it("keeps raw completions and requests with logprobs in step as well", async () => {
    const complete = (prompt: string, i: number) =>
      model.complete({ prompt, options: { temperature: 0, num_predict: 64 }, signal: new AbortController().signal, onText: () => {}, logprobs: i % 2 === 1, topLogprobs: i % 2 === 1 ? 2 : undefined, onLogprob: () => {} });
    const { runs, solo, rounds, stepped } = await aloneThenApart(complete);
    expect(runs.map((r) => r.text)).toEqual(solo);
    expect(stepped).toBe(runs.reduce((sum, r) => sum + r.metrics.eval_count, 0));
    expect(stepped / rounds).toBeGreaterThan(3);
  });
});
