import { describe, expect, it } from "vitest";
import { GenerateRequest, type AdvertisedModel, type Capability } from "@caravan/protocol";
import { assertCapable, capabilitiesFor } from "./capabilities.ts";
import { HttpError } from "./errors.ts";
import { ChatCompletionRequest, CompletionRequest } from "./openai/schemas.ts";
import { chatCompletionToJob, completionToJob } from "./openai/to-job.ts";
import { generate } from "./routes/generate.ts";

const model = (capabilities: Capability[]): AdvertisedModel => ({
  name: "stories260k:latest",
  model: "stories260k:latest",
  modified_at: "2025-01-01T00:00:00Z",
  size: 1,
  digest: "0",
  details: { parent_model: "", format: "gguf", family: "llama", families: ["llama"], parameter_size: "293K", quantization_level: "F32" },
  capabilities,
});

function refusal(capabilities: Capability[], needs: Capability[], name = "Stories260K"): HttpError | undefined {
  try {
    assertCapable(model(capabilities), name, needs);
    return undefined;
  } catch (error) {
    return error as HttpError;
  }
}

describe("assertCapable", () => {
  it.each<[Capability, string]>([
    ["tools", '"Stories260K" does not support tools'],
    ["thinking", '"Stories260K" does not support thinking'],
    ["insert", '"Stories260K" does not support insert'],
    ["completion", '"Stories260K" does not support generate'],
    ["embedding", '"Stories260K" does not support embeddings'],
    ["vision", '"Stories260K" does not support images'],
  ])("refuses a missing %s with Ollama's 400", (need, message) => {
    const error = refusal([], [need]);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, code: "bad_request", message });
  });

  it("passes when every need is advertised", () => {
    expect(refusal(["completion", "embedding", "tools"], ["completion", "tools"])).toBeUndefined();
    expect(refusal(["embedding"], [])).toBeUndefined();
  });

  it("names the first missing need, with the model as the client wrote it", () => {
    expect(refusal(["completion"], ["completion", "tools", "thinking"], "my-model:Q4")?.message).toBe('"my-model:Q4" does not support tools');
  });
});

describe("what an OpenAI request needs of its model", () => {
  const tools = [{ type: "function", function: { name: "f" } }];
  const chat = (body: Record<string, unknown>) => capabilitiesFor(chatCompletionToJob(ChatCompletionRequest.parse({ model: "m", messages: [{ role: "user", content: "Hi" }], ...body })));
  const completion = (body: Record<string, unknown>) => capabilitiesFor(completionToJob(CompletionRequest.parse({ model: "m", prompt: "a", ...body })));

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
    expect(completion({})).toEqual(["completion"]);
    expect(completion({ suffix: "b" })).toEqual(["completion", "insert"]);
  });
});

describe("what /api/generate needs of its model", () => {
  const needs = (body: Record<string, unknown>) => {
    const request = GenerateRequest.parse({ model: "m", prompt: "a", ...body });
    return generate.needs!(request, generate.toJob(request));
  };

  it.each<[string, Record<string, unknown>, string[]]>([
    ["a prompt", {}, ["completion"]],
    ["thinking", { think: true }, ["completion", "thinking"]],
    // a raw completion cannot think, yet Ollama refuses a model that cannot, as for a chat
    ["raw with thinking", { raw: true, think: "high" }, ["completion", "thinking"]],
    ["a suffix with thinking", { suffix: "b", think: true }, ["completion", "thinking", "insert"]],
    ["images", { images: ["aGVsbG8="] }, ["completion", "vision"]],
  ])("%s", (_name, body, expected) => {
    expect(needs(body)).toEqual(expected);
  });
});
