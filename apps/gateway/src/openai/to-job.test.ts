import { describe, expect, it } from "vitest";
import { HttpError } from "../errors.ts";
import { InvalidParamError } from "./errors.ts";
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest } from "./schemas.ts";
import { chatCompletionToJob, completionToJob, embeddingToJob } from "./to-job.ts";

const chat = (body: Record<string, unknown>) => chatCompletionToJob(ChatCompletionRequest.parse({ model: "stories260K", messages: [{ role: "user", content: "Hi" }], ...body }));
const completion = (body: Record<string, unknown>) => completionToJob(CompletionRequest.parse({ model: "stories260K", prompt: "Once", ...body }));
const embedding = (body: Record<string, unknown>) => embeddingToJob(EmbeddingRequest.parse({ model: "stories260K", input: "Once", ...body }));

/** The 400 a translation throws, with the field OpenAI reports as `param`. */
function refusal(run: () => unknown): { status: number; param: string | null; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidParamError) return { status: error.status, param: error.param, message: error.message };
    if (error instanceof HttpError) return { status: error.status, param: null, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("chat completion → chat job", () => {
  it("maps the sampling fields to Ollama options, with OpenAI's defaults of 1", () => {
    const job = chat({ seed: 7, stop: "\n", max_tokens: 5, frequency_penalty: 0.5, presence_penalty: -0.5 });
    expect(job).toMatchObject({ type: "job", kind: "chat", model: "stories260k:latest", messages: [{ role: "user", content: "Hi" }] });
    expect(job.options).toEqual({ temperature: 1, top_p: 1, seed: 7, stop: ["\n"], num_predict: 5, frequency_penalty: 0.5, presence_penalty: -0.5 });
    expect(chat({ temperature: 0, top_p: 0.5 }).options).toEqual({ temperature: 0, top_p: 0.5 });
  });

  it("prefers max_completion_tokens over max_tokens", () => {
    expect(chat({ max_tokens: 9, max_completion_tokens: 3 }).options.num_predict).toBe(3);
  });

  it("reads null as not set", () => {
    expect(chat({ temperature: null, seed: null, tools: null, response_format: null }).options).toEqual({ temperature: 1, top_p: 1 });
  });

  it("translates messages: developer is system, text parts are joined, tool results get their tool's name", () => {
    const job = chat({
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "one" }, { type: "text", text: "two" }] },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
      ],
    });
    expect(job.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "one\ntwo" },
      { role: "assistant", content: "", tool_calls: [{ id: "call_1", function: { name: "weather", arguments: { city: "Paris" } } }] },
      { role: "tool", content: "sunny", tool_name: "weather" },
    ]);
  });

  it("passes tools, tool_choice, format, thinking and logprobs through", () => {
    const tools = [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object" } } }];
    const job = chat({ tools, tool_choice: "required", response_format: { type: "json_object" }, reasoning_effort: "high", logprobs: true, top_logprobs: 3 });
    expect(job).toMatchObject({ tools: [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object" } } }], tool_choice: "required", format: "json", think: "high", logprobs: true, top_logprobs: 3 });
    expect(chat({ tools, tool_choice: { type: "function", function: { name: "f" } } }).tool_choice).toEqual({ type: "function", function: { name: "f" } });
    expect(chat({ reasoning_effort: "none" }).think).toBe(false);
  });

  it.each([
    [{ type: "text" }, undefined],
    [{ type: "json_object" }, "json"],
    [{ type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } }, { type: "object" }],
    [{ type: "json_schema", json_schema: { name: "x" } }, "json"],
  ])("response_format %j → format %j", (response_format, format) => {
    expect(chat({ response_format }).format).toEqual(format);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ["an image part", { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:," } }] }] }, "messages[0].content[0]", /does not support images/],
    ["an audio part", { messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }] }, "messages[0].content[0].type", /input_audio/],
    ["a text part without text", { messages: [{ role: "user", content: [{ type: "text" }] }] }, "messages[0].content[0].text", /required/],
    ["arguments that are not an object", { messages: [{ role: "assistant", tool_calls: [{ id: "a", type: "function", function: { name: "f", arguments: "[1]" } }] }] }, "messages[0].tool_calls[0].function.arguments", /JSON object/],
    ["arguments that are not JSON", { messages: [{ role: "assistant", tool_calls: [{ id: "a", type: "function", function: { name: "f", arguments: "{" } }] }] }, "messages[0].tool_calls[0].function.arguments", /JSON object/],
    ["tool_choice without tools", { tool_choice: "required" }, "tool_choice", /only allowed when tools/],
    ["tool_choice naming a missing tool", { tools: [{ type: "function", function: { name: "f" } }], tool_choice: { type: "function", function: { name: "g" } } }, "tool_choice", /'g'/],
  ])("refuses %s with a 400 naming the field", (_name, body, param, message) => {
    const error = refusal(() => chat(body));
    expect(error).toMatchObject({ status: 400, param });
    expect(error.message).toMatch(message);
  });
});

describe("completion → raw completion job", () => {
  it("runs the prompt as raw text", () => {
    const job = completion({ prompt: ["Once upon"], max_tokens: 4, temperature: 0, stop: ["."] });
    expect(job).toMatchObject({ kind: "completion", prompt: "Once upon", model: "stories260k:latest" });
    expect(job.options).toEqual({ temperature: 0, top_p: 1, num_predict: 4, stop: ["."] });
    expect(job.logprobs).toBeUndefined();
  });

  it("passes a suffix for fill-in-the-middle, an empty one meaning none", () => {
    expect(completion({ suffix: "The end." }).suffix).toBe("The end.");
    expect(completion({ suffix: "" })).not.toHaveProperty("suffix");
  });

  it("asks for logprobs with `logprobs: N` alternatives", () => {
    expect(completion({ logprobs: 2 })).toMatchObject({ logprobs: true, top_logprobs: 2 });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["two prompts", { prompt: ["a", "b"] }, /only one prompt/],
    ["token ids", { prompt: [1, 2, 3] }, /token arrays/],
    ["no prompt", { prompt: [] }, /prompt is required/],
  ])("refuses %s", (_name, body, message) => {
    const error = refusal(() => completion(body));
    expect(error).toMatchObject({ status: 400, param: "prompt" });
    expect(error.message).toMatch(message);
  });
});

describe("embedding → embed job", () => {
  it("embeds every input, truncated and normalized", () => {
    expect(embedding({ input: ["a", "b"], dimensions: 8 })).toMatchObject({ kind: "embed", input: ["a", "b"], truncate: true, normalize: true, dimensions: 8 });
    expect(embedding({ input: "a" }).input).toEqual(["a"]);
  });

  it.each([[[[1, 2]]], [[]]])("refuses input %j", (input) => {
    expect(refusal(() => embedding({ input }))).toMatchObject({ status: 400, param: "input" });
  });
});
