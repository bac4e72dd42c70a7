import { describe, expect, it } from "vitest";
import { EmbedRequest } from "./embed.ts";

describe("EmbedRequest: input", () => {
  it.each<[string, unknown, string[]]>([
    ["absent", undefined, []],
    ["null", null, []],
    // Ollama: an empty string is no input (the model loads, no embeddings), not one empty input
    ["an empty string", "", []],
    ["an empty array", [], []],
    ["an array holding an empty string", [""], [""]],
    ["a string", "hi", ["hi"]],
    ["an array", ["a", "b"], ["a", "b"]],
  ])("%s", (_, input, parsed) => {
    expect(EmbedRequest.parse({ model: "m", input }).input).toEqual(parsed);
  });
});
