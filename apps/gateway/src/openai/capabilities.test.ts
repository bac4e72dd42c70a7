import { describe, expect, it } from "vitest";
import { chatNeeds, completionNeeds } from "./capabilities.ts";
import { ChatCompletionRequest, CompletionRequest } from "./schemas.ts";

const tools = [{ type: "function", function: { name: "f" } }];
const chat = (body: Record<string, unknown>) => chatNeeds(ChatCompletionRequest.parse({ model: "m", messages: [{ role: "user", content: "Hi" }], ...body }));

describe("what a request needs of its model", () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ["a plain chat", {}, ["completion"]],
    ["tools", { tools }, ["completion", "tools"]],
    ["tools the model may not call", { tools, tool_choice: "none" }, ["completion"]],
    ["an empty tool list", { tools: [] }, ["completion"]],
    ["reasoning", { reasoning_effort: "low" }, ["completion", "thinking"]],
    ["reasoning turned off", { reasoning_effort: "none" }, ["completion"]],
  ])("chat with %s", (_name, body, needs) => {
    expect(chat(body)).toEqual(needs);
  });

  it("a completion with a suffix needs fill-in-the-middle", () => {
    expect(completionNeeds(CompletionRequest.parse({ model: "m", prompt: "a" }))).toEqual(["completion"]);
    expect(completionNeeds(CompletionRequest.parse({ model: "m", prompt: "a", suffix: "b" }))).toEqual(["completion", "insert"]);
  });
});
