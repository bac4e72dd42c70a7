import { describe, expect, it } from "vitest";
import type { Tool } from "@caravan/protocol";
import type { ChatModelFunctions } from "node-llama-cpp";
import { EngineRequestError } from "./errors.ts";
import { planTools, toolCallId, toToolCall } from "./tools.ts";

const weather: Tool = {
  type: "function",
  function: { name: "weather", description: "The weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};
const now: Tool = { type: "function", function: { name: "now", parameters: { type: "object", properties: {} } } };
const weatherFunction: ChatModelFunctions[string] = { description: "The weather", params: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };

describe("planTools", () => {
  it.each<[string, Parameters<typeof planTools>, ReturnType<typeof planTools>]>([
    ["no tools", [undefined, undefined, false], { functions: undefined, force: false, shown: undefined }],
    ["auto offers every tool; one without properties takes no arguments", [[weather, now], "auto", false], { functions: { weather: weatherFunction, now: {} }, force: false, shown: undefined }],
    ["absent choice means auto", [[weather], undefined, false], { functions: { weather: weatherFunction }, force: false, shown: undefined }],
    ["none hides the tools", [[weather, now], "none", false], { functions: undefined, force: false, shown: undefined }],
    ["required forces a call to any of them", [[weather, now], "required", false], { functions: { weather: weatherFunction, now: {} }, force: true, shown: undefined }],
    ["a named tool forces a call to it alone", [[weather, now], { type: "function", function: { name: "now" } }, false], { functions: { now: {} }, force: true, shown: undefined }],
    ["with a format the tools are only shown", [[weather], "auto", true], { functions: undefined, force: false, shown: { weather: weatherFunction } }],
  ])("%s", (_name, args, expected) => {
    expect(planTools(...args)).toEqual(expected);
  });

  it("adds the object type a schema with properties left out", () => {
    const plan = planTools([{ type: "function", function: { name: "f", parameters: { properties: { x: { type: "number" } } } } }], "auto", false);
    expect(plan.functions).toEqual({ f: { params: { type: "object", properties: { x: { type: "number" } } } } });
  });

  it("hands node-llama-cpp the schema its grammar can follow (see grammar-schema.ts)", () => {
    const parameters = { type: "object", properties: { to: { type: "string", format: "email" }, age: { anyOf: [{ type: "integer" }, { type: "null" }] } } };
    const plan = planTools([{ type: "function", function: { name: "f", parameters } }], "auto", false);
    expect(plan.functions).toEqual({ f: { params: { type: "object", properties: { to: { type: "string" }, age: { oneOf: [{ type: "integer" }, { type: "null" }] } } } } });
  });

  it.each<[string, Parameters<typeof planTools>]>([
    ["format with required", [[weather], "required", true]],
    ["format with a named tool", [[weather], { type: "function", function: { name: "weather" } }, true]],
    ["an unknown named tool", [[weather], { type: "function", function: { name: "other" } }, false]],
    ["required without tools", [[], "required", false]],
    ["an empty name", [[{ type: "function", function: { name: "" } }], "auto", false]],
    ["a name with a newline", [[{ type: "function", function: { name: "a\nb" } }], "auto", false]],
    ["an array schema", [[{ type: "function", function: { name: "f", parameters: { type: "array" } } }], "auto", false]],
  ])("rejects %s", (_name, args) => {
    expect(() => planTools(...args)).toThrow(EngineRequestError);
  });
});

describe("tool calls", () => {
  it("look like Ollama's: call_ + 8 lowercase alphanumerics, an index, arguments as an object", () => {
    const call = toToolCall({ functionName: "weather", params: { city: "Oslo" } }, 2);
    expect(call).toEqual({ id: expect.stringMatching(/^call_[a-z0-9]{8}$/), function: { index: 2, name: "weather", arguments: { city: "Oslo" } } });
    expect(toToolCall({ functionName: "now", params: undefined }, 0).function.arguments).toEqual({});
    expect(new Set(Array.from({ length: 50 }, toolCallId)).size).toBe(50);
  });
});
