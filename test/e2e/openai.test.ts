import OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSingleProcess, type Deployment } from "../harness/cluster.ts";

/**
 * The /v1 API through the official `openai` client, against a real single-process caravan
 * running the tiny models: what an OpenAI client sees is what it would see from OpenAI.
 */
const MODEL = "stories260K";
/** the same weights with a ChatML template: the one tiny model that can call tools */
const TOOL_MODEL = "stories260K-chatml";
const PROMPT: ChatCompletionMessageParam[] = [{ role: "user", content: "Once upon a time" }];

let deployment: Deployment;
let client: OpenAI;

beforeAll(async () => {
  deployment = await startSingleProcess();
  // No retries: a 5xx must fail the test, not be hidden behind a second attempt.
  client = new OpenAI({ baseURL: `${deployment.gatewayUrls[0]}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => deployment?.stop());

async function collectStream(chunks: AsyncIterable<ChatCompletionChunk>) {
  const all: ChatCompletionChunk[] = [];
  for await (const chunk of chunks) all.push(chunk);
  const content = all.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
  return { all, content, finish: all.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason)).filter(Boolean) };
}

/** The APIError a call rejects with. */
async function apiError(call: () => Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call();
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("POST /v1/chat/completions", () => {
  const greedy = { model: MODEL, messages: PROMPT, temperature: 0, seed: 42, max_tokens: 24 } satisfies ChatCompletionCreateParamsNonStreaming;

  it("answers with a chat.completion, and streams the same text as chunks", async () => {
    const once = await client.chat.completions.create(greedy);
    expect(once).toMatchObject({ object: "chat.completion", model: MODEL, choices: [{ index: 0, message: { role: "assistant" } }] });
    expect(once.id).toMatch(/^chatcmpl-/);
    expect(Math.abs(once.created - Date.now() / 1000)).toBeLessThan(120);
    expect(once.choices[0]!.message.content!.length).toBeGreaterThan(10);

    const streamed = await collectStream(await client.chat.completions.create({ ...greedy, stream: true }));
    expect(streamed.content).toBe(once.choices[0]!.message.content);
    expect(streamed.all.length).toBeGreaterThan(2);
    expect(streamed.all[0]!.choices[0]!.delta.role).toBe("assistant");
    for (const chunk of streamed.all) expect(chunk).toMatchObject({ object: "chat.completion.chunk", id: streamed.all[0]!.id, model: MODEL });
    expect(streamed.finish).toEqual(["length"]);
  });

  it("stops at max_tokens with finish_reason length and counts the tokens", async () => {
    const once = await client.chat.completions.create({ ...greedy, max_tokens: 5 });
    expect(once.choices[0]!.finish_reason).toBe("length");
    expect(once.usage).toMatchObject({ completion_tokens: 5 });
    expect(once.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(once.usage!.total_tokens).toBe(once.usage!.prompt_tokens + 5);

    const streamed = await collectStream(await client.chat.completions.create({ ...greedy, max_completion_tokens: 5, stream: true, stream_options: { include_usage: true } }));
    const last = streamed.all.at(-1)!;
    expect(last.choices).toEqual([]);
    // The same prompt again: every prompt token counts, and OpenAI's field says how many came from the cache.
    const { prompt_tokens_details, ...counts } = last.usage!;
    const { prompt_tokens_details: _, ...onceCounts } = once.usage!;
    expect(counts).toEqual(onceCounts);
    expect(prompt_tokens_details!.cached_tokens).toBeGreaterThan(0);
    expect(prompt_tokens_details!.cached_tokens).toBeLessThan(last.usage!.prompt_tokens);
    expect(streamed.finish).toEqual(["length"]);
  });

  it("constrains the answer to a json_schema response_format", async () => {
    const schema = {
      type: "object",
      properties: { happy: { type: "boolean" }, mood: { enum: ["sunny", "rainy"] }, count: { type: "integer" } },
      required: ["happy", "mood", "count"],
    };
    const once = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "Tell me about the cat." }],
      temperature: 0.8,
      seed: 1,
      max_tokens: 200,
      response_format: { type: "json_schema", json_schema: { name: "cat", schema } },
    });
    expect(once.choices[0]!.finish_reason).toBe("stop");
    const value = JSON.parse(once.choices[0]!.message.content!) as Record<string, unknown>;
    expect(Object.keys(value).sort()).toEqual(["count", "happy", "mood"]);
    expect(typeof value.happy).toBe("boolean");
    expect(["sunny", "rainy"]).toContain(value.mood);
    expect(Number.isInteger(value.count)).toBe(true);
  });

  it("calls a tool when tool_choice is required, then answers the tool's result with text", async () => {
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "get_weather",
          description: "The weather in a city",
          parameters: { type: "object", properties: { city: { enum: ["Paris", "London"] }, days: { type: "integer" } }, required: ["city", "days"] },
        },
      },
    ];
    const messages: ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Paris?" }];
    const first = await client.chat.completions.create({ model: TOOL_MODEL, messages, tools, tool_choice: "required", temperature: 0, seed: 3, max_tokens: 200 });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls?.[0];
    expect(call).toMatchObject({ type: "function", function: { name: "get_weather" } });
    expect(call!.id).toMatch(/^call_/);
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(typeof call.function.arguments).toBe("string");
    const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
    expect(["Paris", "London"]).toContain(args.city);
    expect(Number.isInteger(args.days)).toBe(true);

    const second = await client.chat.completions.create({
      model: TOOL_MODEL,
      messages: [...messages, { role: "assistant", content: null, tool_calls: [call] }, { role: "tool", tool_call_id: call.id, content: "Sunny, 25 degrees." }],
      tools,
      tool_choice: "none",
      temperature: 0,
      max_tokens: 16,
    });
    expect(second.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(second.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(second.choices[0]!.finish_reason).toBe("length");
  });

  it("streams a tool call in delta.tool_calls with an index", async () => {
    const tools = [{ type: "function" as const, function: { name: "pick", parameters: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] } } }];
    const streamed = await collectStream(
      await client.chat.completions.create({ model: TOOL_MODEL, messages: PROMPT, tools, tool_choice: { type: "function", function: { name: "pick" } }, temperature: 0, max_tokens: 200, stream: true }),
    );
    const calls = streamed.all.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]).toMatchObject({ index: 0, type: "function", function: { name: "pick" } });
    expect(Number.isInteger((JSON.parse(calls[0]!.function!.arguments!) as { n: unknown }).n)).toBe(true);
    expect(streamed.finish).toEqual(["tool_calls"]);
  });

  it("returns logprobs in OpenAI's shape", async () => {
    const once = await client.chat.completions.create({ ...greedy, max_tokens: 4, logprobs: true, top_logprobs: 2 });
    const content = once.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(4);
    expect(content.map((l) => l.token).join("")).toBe(once.choices[0]!.message.content);
    for (const l of content) {
      expect(l.logprob).toBeLessThanOrEqual(0);
      expect(l.top_logprobs).toHaveLength(2);
      expect(Array.isArray(l.bytes)).toBe(true);
    }
  });
});

describe("POST /v1/completions", () => {
  const greedy = { model: MODEL, prompt: "Once upon a time", temperature: 0, max_tokens: 12 };

  it("continues the prompt as raw text, streamed or not", async () => {
    const once = await client.completions.create(greedy);
    expect(once).toMatchObject({ object: "text_completion", model: MODEL, choices: [{ index: 0, finish_reason: "length" }], usage: { completion_tokens: 12 } });
    expect(once.id).toMatch(/^cmpl-/);
    expect(once.choices[0]!.text.length).toBeGreaterThan(5);

    const chunks = [];
    for await (const chunk of await client.completions.create({ ...greedy, stream: true })) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.text ?? "").join("")).toBe(once.choices[0]!.text);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("length");
  });

  it("refuses a suffix on a model without fill-in-the-middle tokens", async () => {
    const error = await apiError(() => client.completions.create({ ...greedy, suffix: "The end." }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toBe('400 "stories260K" does not support insert');
  });
});

describe("GET /v1/models", () => {
  it("lists the models and retrieves one; an unknown one is a 404", async () => {
    const ids = [];
    for await (const model of client.models.list()) {
      expect(model.object).toBe("model");
      expect(Number.isInteger(model.created)).toBe(true);
      expect(model.owned_by).toBe("library");
      ids.push(model.id);
    }
    expect(ids).toEqual(expect.arrayContaining(["stories260k:latest", "stories260k-chatml:latest"]));

    expect(await client.models.retrieve("stories260K")).toMatchObject({ id: "stories260k:latest", object: "model" });
    const missing = await apiError(() => client.models.retrieve("gpt-4o"));
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: "model_not_found", type: "invalid_request_error" });
  });
});

describe("POST /v1/embeddings", () => {
  const norm = (vector: ArrayLike<number>) => Math.hypot(...Array.from(vector));

  it("embeds each input as a normalized vector, as floats and as base64", async () => {
    // The client asks for base64 unless told otherwise, and decodes it.
    const base64 = await client.embeddings.create({ model: MODEL, input: ["The cat sat.", "A dog ran."] });
    expect(base64).toMatchObject({ object: "list", model: MODEL });
    expect(base64.data.map((d) => d.index)).toEqual([0, 1]);
    expect(base64.usage.prompt_tokens).toBeGreaterThan(0);
    const floats = await client.embeddings.create({ model: MODEL, input: "The cat sat.", encoding_format: "float" });
    const vector = floats.data[0]!.embedding;
    expect(vector.length).toBe(64); // stories260K's embedding width
    expect(norm(vector)).toBeCloseTo(1, 4);
    Array.from(base64.data[0]!.embedding).forEach((x, i) => expect(x).toBeCloseTo(vector[i]!, 5));
    expect(norm(base64.data[1]!.embedding)).toBeCloseTo(1, 4);

    const short = await client.embeddings.create({ model: MODEL, input: "The cat sat.", dimensions: 16, encoding_format: "float" });
    expect(short.data[0]!.embedding).toHaveLength(16);
    expect(norm(short.data[0]!.embedding)).toBeCloseTo(1, 4);
  });
});

describe("errors as the client surfaces them", () => {
  it("an unknown model is a 404 NotFoundError naming it", async () => {
    const error = await apiError(() => client.chat.completions.create({ model: "gpt-4o", messages: PROMPT }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.status).toBe(404);
    expect(error.message).toBe("404 model 'gpt-4o' not found");
    expect(error.code).toBe("model_not_found");
  });

  it("a bad body is a 400 BadRequestError naming the field", async () => {
    const error = await apiError(() => client.chat.completions.create({ model: MODEL, messages: PROMPT, temperature: 5 }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^400 temperature: /);
    expect(error).toMatchObject({ param: "temperature", type: "invalid_request_error" });
  });
});
