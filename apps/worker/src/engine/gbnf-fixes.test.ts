import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { getLlama, type GbnfJsonSchema, type Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixJsonGrammars, INTEGER_RULE, NUMBER_RULE } from "./gbnf-fixes.ts";

// What the fixes change in node-llama-cpp's own grammars (the real model's answers are checked
// in engine-format.test.ts and engine-tools.test.ts).
let llama: Llama;

beforeAll(async () => {
  await fixJsonGrammars();
  llama = await getLlama({ gpu: false, build: "never" });
});
afterAll(async () => llama?.dispose());

/** The rule `name` of a GBNF text. */
function rule(gbnf: string, name: string): string | undefined {
  return gbnf
    .split("\n")
    .find((line) => line.startsWith(`${name} ::= `))
    ?.slice(name.length + 5);
}

describe("fixJsonGrammars", () => {
  it("gives integers no exponent and numbers an exponent of at most two digits", async () => {
    const grammar = await llama.createGrammarForJsonSchema({ type: "object", properties: { i: { type: "integer" }, n: { type: "number" }, both: { type: ["integer", "number"] } } });
    expect(rule(grammar.grammar, "integer-number-rule")).toBe(INTEGER_RULE);
    expect(rule(grammar.grammar, "fractional-number-rule")).toBe(NUMBER_RULE);
    expect(INTEGER_RULE).not.toMatch(/[eE.]/);
    // The largest number the rule admits, 9999999999999999.9999999999999999e99, stays finite.
    expect(Number.isFinite(Number(`${"9".repeat(16)}.${"9".repeat(16)}e99`))).toBe(true);
  });

  it("is applied once however often it is called", async () => {
    await Promise.all([fixJsonGrammars(), fixJsonGrammars()]);
    const grammar = await llama.createGrammarForJsonSchema({ type: "integer" });
    expect(grammar.grammar.split("\n").filter((line) => line.startsWith("integer-number-rule"))).toEqual([`integer-number-rule ::= ${INTEGER_RULE}`]);
  });

  describe("a tool call's arguments", () => {
    // LlamaChat's grammar for a call's arguments, which caravan never builds itself.
    const paramsGrammar = async (schema: GbnfJsonSchema) => {
      const dist = dirname(createRequire(import.meta.url).resolve("node-llama-cpp"));
      const { FunctionCallParamsGrammar } = (await import(pathToFileURL(join(dist, "evaluator/LlamaChat/utils/FunctionCallParamsGrammar.js")).href)) as {
        FunctionCallParamsGrammar: new (...args: unknown[]) => { parseParams(text: string): { params: unknown; raw: string } };
      };
      return new FunctionCallParamsGrammar(llama, { f: { params: schema } }, undefined, "f", schema);
    };

    it("come back as generated where node-llama-cpp's check disagrees with its grammar", async () => {
      // One character for the grammar and JSON Schema, two UTF-16 units for the library's check.
      const grammar = await paramsGrammar({ type: "object", properties: { s: { type: "string", maxLength: 1 } } });
      expect(grammar.parseParams('{"s": "😀"}\n\n\n\n')).toEqual({ params: { s: "😀" }, raw: '{"s": "😀"}' });
      expect(grammar.parseParams('{"s": "a"}\n\n\n\n')).toEqual({ params: { s: "a" }, raw: '{"s": "a"}' });
    });

    it("still fail as before when they are not JSON or did not end", async () => {
      const grammar = await paramsGrammar({ type: "object", properties: { s: { type: "string" } } });
      expect(() => grammar.parseParams('{"s": "a"')).toThrow(/to end with stop generation trigger/);
      expect(() => grammar.parseParams('{"s": \n\n\n\n')).toThrow(SyntaxError);
    });
  });
});
