import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage, Think } from "@caravan/protocol";
import { findModel, scanModels, type CatalogEntry } from "../catalog/catalog.ts";
import { STORIES_260K, TEST_MODELS_DIR } from "../catalog/test-models.ts";
import { loadModel } from "../testing/engines.ts";
import type { LoadedModel } from "./engine-api.ts";
import { LlamaEngine } from "./engine.ts";
import { EngineRequestError } from "./errors.ts";
import { copyGgufWithChatTemplate, THINKING_CHAT_TEMPLATE } from "./test-gguf.ts";

// `think` on the real engine: stories260K with a thinking chat template (test-gguf.ts), which
// node-llama-cpp reads as a wrapper that opens a thought at the start of every answer. The tiny
// model never closes it, so with thinking on, all it writes is thought.
let engine: LlamaEngine;
/** each entry's model, loaded with the default load settings */
const loaded = new Map<CatalogEntry, LoadedModel>();
let thinker: CatalogEntry;
let chatml: CatalogEntry;
const logs: { message: string; fields?: Record<string, unknown> }[] = [];

beforeAll(async () => {
  const path = await copyGgufWithChatTemplate(STORIES_260K, THINKING_CHAT_TEMPLATE, "stories260K-think.gguf");
  thinker = findModel(await scanModels(dirname(path)), "stories260K-think")!;
  chatml = findModel(await scanModels(TEST_MODELS_DIR), "stories260K-chatml")!;
  engine = await LlamaEngine.create({ threads: 1, numParallel: 1, gpu: false, defaultNumCtx: 2048, log: (_level, message, fields) => logs.push({ message, fields }) });
  loaded.set(thinker, await loadModel(engine, thinker));
  loaded.set(chatml, await loadModel(engine, chatml));
});
afterAll(async () => {
  await engine?.close();
  if (thinker) await rm(dirname(thinker.path), { recursive: true, force: true });
});

const question: ChatMessage[] = [{ role: "user", content: "Tell me a story." }];

async function run(entry: CatalogEntry, think: Think | undefined, num_predict = 20) {
  const content: string[] = [];
  const thoughts: string[] = [];
  const result = await loaded.get(entry)!.generate({
    messages: question,
    options: { temperature: 0, num_predict },
    think,
    signal: new AbortController().signal,
    onText: (text) => content.push(text),
    onThinking: (text) => thoughts.push(text),
  });
  return { ...result, content, thoughts };
}

describe("think", () => {
  it("loads the copy with a thinking wrapper", async () => {
    await run(thinker, undefined, 1);
    const loaded = logs.find((l) => l.message === "model loaded" && l.fields?.model === thinker.name);
    expect(loaded?.fields?.chatWrapper).toBe("JinjaTemplate");
    expect(thinker.hasChatTemplate).toBe(true);
  });

  it.each<Think | undefined>([true, "high", "medium", "low", undefined])("think %s: the answer is thought, streamed as thinking, none of it content", async (think) => {
    const result = await run(thinker, think);
    expect(result.doneReason).toBe("length");
    expect(result.metrics.eval_count).toBe(20);
    expect(result.thinking!.length).toBeGreaterThan(10);
    expect(result.thoughts.join("")).toBe(result.thinking);
    expect(result.text).toBe("");
    expect(result.content).toEqual([]);
  });

  it("think false: no thought at all, the answer is content", async () => {
    const result = await run(thinker, false);
    expect(result.thinking).toBe("");
    expect(result.thoughts).toEqual([]);
    expect(result.text.length).toBeGreaterThan(10);
    expect(result.content.join("")).toBe(result.text);
    expect(result.metrics.eval_count).toBe(20);
  });

  it("levels are the same as true (node-llama-cpp has no effort setting)", async () => {
    const high = await run(thinker, "high");
    const on = await run(thinker, true);
    expect(high.thinking).toBe(on.thinking);
  });

  it("refuses think on a model whose template cannot think; think false there is a no-op", async () => {
    const failing = run(chatml, true, 4);
    await expect(failing).rejects.toBeInstanceOf(EngineRequestError);
    await expect(failing).rejects.toThrow('"stories260k-chatml:latest" does not support thinking');
    const off = await run(chatml, false, 8);
    const unset = await run(chatml, undefined, 8);
    expect(off.text).toBe(unset.text);
    expect(off.thinking).toBe("");
  });
});
