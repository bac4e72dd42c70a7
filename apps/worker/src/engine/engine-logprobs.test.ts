import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logprob, ModelOptions } from "@caravan/protocol";
import { findModel, scanModels } from "../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../catalog/test-models.ts";
import type { LoadedModel } from "./engine-api.ts";
import { loadModel } from "../testing/engines.ts";
import { LlamaEngine } from "./engine.ts";

// logprobs on the real engine and the tiny stories260K model.
let engine: LlamaEngine;
let stories: LoadedModel;
let chatml: LoadedModel;

beforeAll(async () => {
  const entries = await scanModels(TEST_MODELS_DIR);
  engine = await LlamaEngine.create({ threads: 1, numParallel: 1, gpu: false, defaultNumCtx: 2048 });
  stories = await loadModel(engine, findModel(entries, "stories260K")!);
  chatml = await loadModel(engine, findModel(entries, "stories260K-chatml")!);
});
afterAll(async () => engine?.close());

async function run(options: ModelOptions, logprobs: { logprobs?: boolean; topLogprobs?: number }, model = stories) {
  const entries: Logprob[] = [];
  const result = await model.generate({
    messages: [{ role: "user", content: "Once upon a time" }],
    options,
    ...logprobs,
    signal: new AbortController().signal,
    onText: () => {},
    onLogprob: (entry) => entries.push(entry),
  });
  return { ...result, entries };
}

const utf8 = (text: string) => [...Buffer.from(text, "utf8")];

describe("logprobs", () => {
  it("gives one entry per generated token, in order, whose texts make the answer", async () => {
    const result = await run({ temperature: 0, num_predict: 24 }, { logprobs: true });
    expect(result.entries).toHaveLength(result.metrics.eval_count);
    expect(result.entries.map((e) => e.token).join("")).toBe(result.text);
    for (const entry of result.entries) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.bytes).toEqual(utf8(entry.token));
      expect(entry.top_logprobs).toBeUndefined();
    }
    // SentencePiece words keep their leading space.
    expect(result.entries.some((e) => e.token.startsWith(" "))).toBe(true);
  });

  it("top_logprobs: that many alternatives, most likely first; greedy picks the first", async () => {
    const result = await run({ temperature: 0, num_predict: 16 }, { logprobs: true, topLogprobs: 5 });
    expect(result.entries).toHaveLength(16);
    for (const entry of result.entries) {
      const top = entry.top_logprobs!;
      expect(top).toHaveLength(5);
      for (let i = 1; i < top.length; i++) expect(top[i]!.logprob).toBeLessThanOrEqual(top[i - 1]!.logprob);
      expect(top[0]!.token).toBe(entry.token);
      expect(top[0]!.logprob).toBeCloseTo(entry.logprob, 5);
      expect(top.reduce((sum, alt) => sum + Math.exp(alt.logprob), 0)).toBeLessThanOrEqual(1 + 1e-6);
      for (const alt of top) expect(alt.bytes).toEqual(utf8(alt.token));
    }
    // Greedy probabilities are the model's own softmax: not all certain.
    expect(result.entries.some((e) => e.logprob < -0.5)).toBe(true);
  });

  it("does not change what is generated, and logprobs false reports none", async () => {
    const options = { temperature: 0.8, seed: 7, num_predict: 24 };
    const plain = await run(options, {});
    const off = await run(options, { logprobs: false, topLogprobs: 3 });
    const on = await run(options, { logprobs: true, topLogprobs: 3 });
    expect(plain.entries).toEqual([]);
    expect(off.entries).toEqual([]);
    expect(on.text).toBe(plain.text);
    expect(on.entries).toHaveLength(24);
    // After top_k/top_p the distribution is cut: alternatives with probability 0 are left out.
    for (const entry of on.entries) {
      expect(Number.isFinite(entry.logprob)).toBe(true);
      for (const alt of entry.top_logprobs!) expect(Number.isFinite(alt.logprob)).toBe(true);
    }
  });

  it("leaves out the stop sequence, and a token the stop cuts into keeps only the text before it", async () => {
    const full = await run({ temperature: 0, num_predict: 40 }, { logprobs: true });
    const stopWord = full.text.split(/\s+/).filter((w) => /^[a-z]{4,}$/.test(w))[1]!;
    // The stop starts inside a word's token (" word" holds the space the content keeps).
    const cut = await run({ temperature: 0, num_predict: 40, stop: [stopWord.slice(1)] }, { logprobs: true });
    expect(cut.doneReason).toBe("stop");
    expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stopWord) + 1));
    expect(cut.entries.map((e) => e.token).join("")).toBe(cut.text);
    expect(cut.entries.length).toBeLessThanOrEqual(cut.metrics.eval_count);
    const last = cut.entries.at(-1)!;
    expect(last.token).toBe(" " + stopWord[0]);
    expect(last.bytes).toEqual(utf8(last.token));
  });

  it("reports no entry for a tool call's syntax", async () => {
    const entries: Logprob[] = [];
    const result = await chatml.generate({
      messages: [{ role: "user", content: "Add" }],
      options: { temperature: 0.8, seed: 1, num_predict: 100 },
      tools: [{ type: "function", function: { name: "add", parameters: { type: "object", properties: { a: { type: "number" } }, required: ["a"] } } }],
      toolChoice: "required",
      logprobs: true,
      signal: new AbortController().signal,
      onText: () => {},
      onLogprob: (entry) => entries.push(entry),
    });
    expect(result.toolCalls).toHaveLength(1);
    expect(result.text).toBe("");
    expect(entries).toEqual([]);
  });
});

/** What a request streamed, in order: logprob entries and the texts they precede. */
type Streamed = { entry: Logprob } | { text: string };

/**
 * The engine's contract with its callers: the entries delivered right before a piece of text
 * are that text's tokens, their `token`s join to it and their bytes are its bytes; no entry is
 * left without text. Returns every text, joined.
 */
function expectEntriesBeforeTheirText(streamed: Streamed[]): string {
  let pending: Logprob[] = [];
  let all = "";
  for (const item of streamed) {
    if ("entry" in item) {
      pending.push(item.entry);
      continue;
    }
    expect(pending.map((e) => e.token).join("")).toBe(item.text);
    expect(pending.flatMap((e) => e.bytes ?? [])).toEqual(utf8(item.text));
    pending = [];
    all += item.text;
  }
  expect(pending).toEqual([]);
  return all;
}

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);
// Stops that often start inside a token (" the", "she", ", and") as well as on a token's edge.
const STOPS = [["he"], ["a"], [", "], ["."], ["ily"], ["the", "was"]];

describe("logprobs describe exactly the text returned", () => {
  async function streamed(kind: "chat" | "completion", options: ModelOptions, format?: "json") {
    const items: Streamed[] = [];
    const common = {
      options,
      format,
      logprobs: true,
      topLogprobs: 2,
      signal: new AbortController().signal,
      onText: (text: string) => items.push({ text }),
      onLogprob: (entry: Logprob) => items.push({ entry }),
    };
    const result =
      kind === "chat"
        ? await stories.generate({ ...common, messages: [{ role: "user", content: "Once upon a time" }] })
        : await stories.complete({ ...common, prompt: "Once upon a time" });
    return { result, items };
  }

  it.each(SEEDS)("chat with a stop sequence (seed %i)", async (seed) => {
    const { result, items } = await streamed("chat", { temperature: 1, seed, num_predict: 48, stop: STOPS[seed % STOPS.length] });
    expect(expectEntriesBeforeTheirText(items)).toBe(result.text);
  });

  it.each(SEEDS)("raw completion with a stop sequence (seed %i)", async (seed) => {
    const { result, items } = await streamed("completion", { temperature: 1, seed, num_predict: 48, stop: STOPS[seed % STOPS.length] });
    expect(expectEntriesBeforeTheirText(items)).toBe(result.text);
  });

  // The JSON grammar trims whitespace from the end: whitespace tokens are held until more text follows.
  it.each(SEEDS)('format "json" (seed %i)', async (seed) => {
    const { result, items } = await streamed(seed % 2 === 0 ? "chat" : "completion", { temperature: 1, seed, num_predict: 32 }, "json");
    const text = expectEntriesBeforeTheirText(items);
    if (seed % 2 === 0) expect(text).toBe(result.text);
  });
});
