import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Format } from "@caravan/protocol";
import { findModel, scanModels, type CatalogEntry } from "../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../catalog/test-models.ts";
import { LlamaEngine } from "./engine.ts";

// `format` on the real engine and the tiny stories260K model: the grammar, not the model,
// decides the shape, so even a model that knows no JSON must produce it.
let engine: LlamaEngine;
let stories: CatalogEntry;

beforeAll(async () => {
  stories = findModel(await scanModels(TEST_MODELS_DIR), "stories260K")!;
  engine = await LlamaEngine.create({ threads: 1, numParallel: 2, gpu: false, defaultNumCtx: 4096 });
});
afterAll(async () => engine?.close());

const run = (format: Format, seed: number, num_predict = 200) =>
  engine.generate({ entry: stories, messages: [{ role: "user", content: "Tell me about the cat." }], options: { temperature: 0.8, seed, num_predict }, format, signal: new AbortController().signal, onText: () => {} });

describe("format", () => {
  const schema = {
    type: "object",
    properties: { happy: { type: "boolean" }, mood: { enum: ["sunny", "rainy"] }, count: { type: "integer" } },
    required: ["happy", "mood", "count"],
  };

  it.each([1, 2, 3, 4, 5])("a JSON schema makes output that parses and matches it (seed %i)", async (seed) => {
    const result = await run(schema, seed);
    expect(result.doneReason).toBe("stop");
    const value = JSON.parse(result.text) as Record<string, unknown>;
    expect(Object.keys(value).sort()).toEqual(["count", "happy", "mood"]);
    expect(typeof value.happy).toBe("boolean");
    expect(["sunny", "rainy"]).toContain(value.mood);
    expect(Number.isInteger(value.count)).toBe(true);
  });

  it('"json" constrains the output to JSON from its first character', async () => {
    // The tiny model rarely closes a free-form object, so this checks the start, not a parse.
    const result = await run("json", 7, 40);
    expect(result.text.trimStart()[0]).toMatch(/[{[]/);
  });

  it("an empty format means no constraint", async () => {
    const plain = await run("", 3, 16);
    expect(plain.metrics.eval_count).toBe(16);
  });
});
