import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findModel, scanModels } from "../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../catalog/test-models.ts";
import type { LoadedModel } from "./engine-api.ts";
import { loadModel } from "../testing/engines.ts";
import { LlamaEngine } from "./engine.ts";
import { EngineRequestError } from "./errors.ts";

// Raw completions and embeddings on the real engine and the tiny stories260K model.
let engine: LlamaEngine;
/** stories260K with the default context, and with num_ctx 256 */
let model: LoadedModel;
let small: LoadedModel;
const signal = () => new AbortController().signal;

beforeAll(async () => {
  const stories = findModel(await scanModels(TEST_MODELS_DIR), "stories260K")!;
  engine = await LlamaEngine.create({ threads: 1, numParallel: 2, gpu: false, defaultNumCtx: 4096 });
  model = await loadModel(engine, stories);
  small = await loadModel(engine, stories, { num_ctx: 256 });
});
afterAll(async () => engine?.close());

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe("complete (raw prompt, no template)", () => {
  const complete = (prompt: string, num_predict: number, seed = 1) => {
    let streamed = "";
    return model
      .complete({ prompt, options: { temperature: 0, seed, num_predict }, signal: signal(), onText: (t) => (streamed += t) })
      .then((result) => ({ ...result, streamed }));
  };

  it("continues the text as written, with length when num_predict ends it", async () => {
    const result = await complete("Once upon a time, there was a little", 24);
    expect(result.doneReason).toBe("length");
    expect(result.metrics.eval_count).toBe(24);
    expect(result.text.length).toBeGreaterThan(10);
    expect(result.streamed).toBe(result.text);
    // the prompt alone is evaluated: BOS + its tokens, no chat markup around it
    expect(result.metrics.prompt_eval_count).toBeLessThan(16);
  });

  it("is deterministic at temperature 0 and differs from the chat path on the same text", async () => {
    const a = await complete("The dog ran to the park and", 16);
    const b = await complete("The dog ran to the park and", 16);
    expect(a.text).toBe(b.text);
    const chat = await model.generate({ messages: [{ role: "user", content: "The dog ran to the park and" }], options: { temperature: 0, num_predict: 16 }, signal: signal(), onText: () => {} });
    expect(chat.metrics.prompt_eval_count).toBeGreaterThan(a.metrics.prompt_eval_count);
  });

  it("reports one logprob per sampled token, with alternatives when asked", async () => {
    const entries: { token: string; logprob: number; top_logprobs?: { token: string; logprob: number }[] }[] = [];
    const result = await model.complete({
      prompt: "Once upon a time",
      options: { temperature: 0, num_predict: 8 },
      signal: signal(),
      onText: () => {},
      logprobs: true,
      topLogprobs: 3,
      onLogprob: (entry) => entries.push(entry),
    });
    expect(entries).toHaveLength(result.metrics.eval_count);
    expect(entries.map((e) => e.token).join("")).toBe(result.text);
    for (const entry of entries) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.top_logprobs!).toHaveLength(3);
      // greedy picks the most likely token: it heads the alternatives, which are sorted
      expect(entry.top_logprobs![0]!.token).toBe(entry.token);
      expect(entry.top_logprobs![0]!.logprob).toBeCloseTo(entry.logprob, 9);
      expect(entry.top_logprobs![1]!.logprob).toBeLessThanOrEqual(entry.top_logprobs![0]!.logprob);
    }
  });

  it("refuses a suffix on a model without fill-in-the-middle tokens", async () => {
    await expect(model.complete({ prompt: "a", suffix: "b", options: {}, signal: signal(), onText: () => {} })).rejects.toThrow(EngineRequestError);
  });
});

describe("embed", () => {
  const embed = (inputs: string[], { num_ctx, ...extra }: Partial<{ truncate: boolean; normalize: boolean; dimensions: number; num_ctx: 256 }> = {}) =>
    (num_ctx ? small : model).embed({ inputs, truncate: true, normalize: true, signal: signal(), ...extra });

  it("returns one normalized vector per input, the model's embedding width long", async () => {
    const { vectors, metrics } = await embed(["The cat sat.", "A dog barked loudly at the moon."]);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(64); // stories260K: dim 64
    for (const v of vectors) expect(norm(v)).toBeCloseTo(1, 5);
    expect(vectors[0]).not.toEqual(vectors[1]);
    expect(metrics.prompt_eval_count).toBeGreaterThan(8);
    expect(metrics.eval_count).toBe(0);
  });

  it("is deterministic, and the same text gives the same vector", async () => {
    const { vectors } = await embed(["The cat sat.", "The cat sat."]);
    expect(vectors[0]).toEqual(vectors[1]);
    const again = await embed(["The cat sat."]);
    expect(again.vectors[0]).toEqual(vectors[0]);
  });

  it("normalize false keeps the raw vector; dimensions cuts and renormalizes", async () => {
    const raw = (await embed(["The cat sat."], { normalize: false })).vectors[0]!;
    const unit = (await embed(["The cat sat."])).vectors[0]!;
    expect(norm(raw)).not.toBeCloseTo(1, 3);
    unit.forEach((x, i) => expect(x).toBeCloseTo(raw[i]! / norm(raw), 5));
    const cut = (await embed(["The cat sat."], { dimensions: 8 })).vectors[0]!;
    expect(cut).toHaveLength(8);
    expect(norm(cut)).toBeCloseTo(1, 5);
    await expect(embed(["x"], { dimensions: 65 })).rejects.toThrow(/dimensions 65/);
  });

  it("embeds an empty string as the model's BOS token, as Ollama's runner does", async () => {
    const { vectors, metrics } = await embed(["", "The cat sat."]);
    expect(vectors[0]).toHaveLength(64);
    expect(norm(vectors[0]!)).toBeCloseTo(1, 5);
    expect(vectors[0]).not.toEqual(vectors[1]);
    expect(metrics.prompt_eval_count).toBeGreaterThan(1);
  });

  it("truncates an input longer than the context, or refuses it with truncate false", async () => {
    // a small context keeps this quick on one CPU thread
    const long = "the cat sat on the mat and ".repeat(100); // ~700 tokens
    const { vectors, metrics } = await embed([long], { num_ctx: 256 });
    expect(vectors[0]).toHaveLength(64);
    expect(metrics.prompt_eval_count).toBeLessThan(256);
    expect(metrics.prompt_eval_count).toBeGreaterThan(200);
    await expect(embed([long], { truncate: false, num_ctx: 256 })).rejects.toThrow(/more than the context length/);
  });
});
