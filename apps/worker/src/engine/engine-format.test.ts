import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Format } from "@caravan/protocol";
import { findModel, scanModels } from "../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../catalog/test-models.ts";
import type { LoadedModel } from "./engine-api.ts";
import { loadModel } from "../testing/engines.ts";
import { LlamaEngine } from "./engine.ts";
import { EngineRequestError } from "./errors.ts";

// `format` on the real engine and the tiny stories260K model: the grammar, not the model,
// decides the shape, so even a model that knows no JSON must produce it.
let engine: LlamaEngine;
let stories: LoadedModel;

beforeAll(async () => {
  const entry = findModel(await scanModels(TEST_MODELS_DIR), "stories260K")!;
  engine = await LlamaEngine.create({ threads: 1, numParallel: 2, gpu: false, defaultNumCtx: 4096 });
  stories = await loadModel(engine, entry);
});
afterAll(async () => engine?.close());

// Formats (`format` "email" and the like) are annotations, as JSON Schema has them by default.
const ajv = new Ajv({ allErrors: true, validateFormats: false });
const seeds = Array.from({ length: 48 }, (_, i) => i + 1);

const run = (format: Format, seed: number, num_predict = 200) =>
  stories.generate({ messages: [{ role: "user", content: "Tell me about the cat." }], options: { temperature: 0.8, seed, num_predict }, format, signal: new AbortController().signal, onText: () => {} });

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

  it("cut off by num_predict, the answer is the text as generated (done_reason length), not an error", async () => {
    const result = await run(schema, 1, 6);
    expect(result.doneReason).toBe("length");
    expect(result.metrics.eval_count).toBe(6);
    expect(() => JSON.parse(result.text) as unknown).toThrow();
    expect(result.text.trimStart()[0]).toBe("{");
  });

  it("a schema that cannot be compiled is a bad request, before anything is generated", async () => {
    let deep: Record<string, unknown> = { type: "integer" };
    for (let i = 0; i < 600; i++) deep = { type: "object", properties: { a: deep } };
    // Repetition counts past llama.cpp's own threshold (2000): refused when the grammar is parsed, not expanded.
    const hugeArray = { type: "object", properties: { a: { type: "array", items: { type: "integer" }, minItems: 1_000_000 } } };
    const hugeString = { type: "object", properties: { a: { type: "string", minLength: 1_000_000 } } };
    for (const format of [deep, { type: "object", properties: { a: { enum: "not a list" } } }, hugeArray, hugeString]) {
      const failing = run(format, 1, 8);
      await expect(failing).rejects.toBeInstanceOf(EngineRequestError);
      await expect(failing).rejects.toThrow(/^format: cannot use this JSON schema/);
    }
  });
});

describe("format: every answer validates against its schema", () => {
  // Every kind of value, nested. node-llama-cpp 3.22's own grammar let an integer take an
  // exponent ("-1e-3"); gbnf-fixes.ts corrects it. Lengths and item counts are bounded so that
  // every answer ends within num_predict.
  const order = {
    type: "object",
    properties: {
      id: { type: "integer" },
      price: { type: "number" },
      note: { type: "string", maxLength: 12 },
      paid: { type: "boolean" },
      size: { enum: ["small", "medium", "large"] },
      customer: {
        type: "object",
        properties: { age: { type: "integer" }, name: { type: "string", maxLength: 12 } },
        required: ["age", "name"],
      },
      lines: {
        type: "array",
        maxItems: 2,
        items: { type: "object", properties: { qty: { type: "integer" }, weight: { type: "number" } }, required: ["qty", "weight"] },
      },
      scores: { type: "array", items: { type: "integer" }, minItems: 1, maxItems: 3 },
    },
    required: ["id", "price", "note", "paid", "size", "customer", "lines", "scores"],
  };
  const validOrder = ajv.compile(order);

  it.each(seeds)("integers, numbers, strings, booleans, enums, objects and arrays (seed %i)", async (seed) => {
    const result = await run(order, seed, 512);
    expect(result.doneReason).toBe("stop");
    expect(validOrder(JSON.parse(result.text)), `${result.text}: ${ajv.errorsText(validOrder.errors)}`).toBe(true);
  });

  // What the grammar cannot enforce is passed over, not turned into a grammar that contradicts the
  // schema: node-llama-cpp alone admits only "" for an unknown string format and only null for anyOf.
  const profile = {
    type: "object",
    properties: {
      email: { type: "string", format: "email", maxLength: 16 },
      age: { anyOf: [{ type: "integer" }, { type: "null" }] },
      tag: { anyOf: [{ type: "integer" }, { type: "string", maxLength: 8 }] },
    },
    required: ["email", "age", "tag"],
  };
  const validProfile = ajv.compile(profile);

  it.each(seeds.slice(0, 12))("an unknown string format and anyOf (seed %i)", async (seed) => {
    const result = await run(profile, seed, 256);
    expect(result.doneReason).toBe("stop");
    expect(validProfile(JSON.parse(result.text)), `${result.text}: ${ajv.errorsText(validProfile.errors)}`).toBe(true);
  });
});
