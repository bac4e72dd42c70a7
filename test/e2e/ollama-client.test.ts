import { Ollama, type Message, type Tool } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { generationEnded, tokensGenerated } from "../harness/scenario.ts";

// The official `ollama` npm client against caravan for what the chat suite does not cover:
// ps, abort mid-stream, format through the client, thinking and tools (errors and a real round trip).
const PLAIN = "stories260K"; // no chat template: no tools, no thinking
const CHATML = "stories260K-chatml"; // a ChatML template: tools through node-llama-cpp's function calling

const weather: Tool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string", enum: ["Paris", "Oslo"] }, days: { type: "integer" } }, required: ["city", "days"] },
  },
};

describe("the official ollama client against one caravan process", () => {
  let deployment: Deployment;
  let ollama: Ollama;
  beforeAll(async () => {
    deployment = await startSingleProcess();
    ollama = new Ollama({ host: deployment.gatewayUrls[0]! });
  });
  afterAll(async () => deployment?.stop());

  it("ps lists the loaded model with Ollama's fields", async () => {
    const cold = await ollama.chat({ model: PLAIN, messages: [{ role: "user", content: "Hi" }], options: { num_predict: 2 }, keep_alive: "10m" });
    // the request that found the model unloaded waited for its load, and says so (as `ollama run --verbose` shows)
    expect(cold.load_duration).toBeGreaterThan(0);
    const warm = await ollama.chat({ model: PLAIN, messages: [{ role: "user", content: "Hi" }], options: { num_predict: 2 }, keep_alive: "10m" });
    expect(warm.load_duration).toBe(0);
    const { models } = await ollama.ps();
    const copy = models.find((m) => m.name === "stories260k:latest");
    expect(copy).toBeDefined();
    expect(copy!.size).toBeGreaterThan(1_000_000);
    expect(copy!.digest).toBe("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
    expect(new Date(copy!.expires_at).getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(copy!.details.family).toBe("llama");
  });

  it("abort() mid-stream ends the iteration and stops the generation on the worker", async () => {
    const before = await tokensGenerated(deployment, PLAIN);
    const stream = await ollama.chat({ model: PLAIN, messages: [{ role: "user", content: "Once upon a time" }], stream: true, options: { temperature: 0, num_ctx: 4096 } });
    let parts = 0;
    await expect(
      (async () => {
        for await (const part of stream) {
          expect(part.done).toBe(false);
          if (++parts === 3) stream.abort();
        }
      })(),
    ).rejects.toThrow(/abort/i);
    // (thousands of tokens, to the 4096-token context, had it not been stopped)
    expect(await generationEnded(deployment, PLAIN, before, 20_000)).toBeLessThan(1000);
  });

  it("format: json and a JSON schema through the client", async () => {
    const schema = { type: "object", properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer" } }, required: ["name", "age"] };
    const answer = await ollama.chat({ model: PLAIN, messages: [{ role: "user", content: "Who is the cat?" }], format: schema, options: { seed: 5, num_predict: 100 } });
    const value = JSON.parse(answer.message.content) as { name: unknown; age: unknown };
    expect(typeof value.name).toBe("string");
    expect(Number.isInteger(value.age)).toBe(true);
    const json = await ollama.generate({ model: PLAIN, prompt: "A cat", format: "json", options: { seed: 5, num_predict: 20 } });
    expect(json.response!.trimStart()[0]).toMatch(/[{[]/);
  });

  it("think on a model that cannot think is Ollama's 400", async () => {
    await expect(ollama.chat({ model: PLAIN, messages: [{ role: "user", content: "Hi" }], think: true })).rejects.toMatchObject({
      status_code: 400,
      error: `"${PLAIN}" does not support thinking`,
    });
    await expect(ollama.generate({ model: PLAIN, prompt: "Hi", think: "high" })).rejects.toMatchObject({ status_code: 400 });
    // think:false asks for nothing the model lacks
    const answer = await ollama.chat({ model: PLAIN, messages: [{ role: "user", content: "Hi" }], think: false, options: { num_predict: 3 } });
    expect(answer.done).toBe(true);
  });

  it("tools on a model without a chat template is Ollama's 400", async () => {
    await expect(ollama.chat({ model: PLAIN, messages: [{ role: "user", content: "Weather?" }], tools: [weather] })).rejects.toMatchObject({
      status_code: 400,
      error: `"${PLAIN}" does not support tools`,
    });
  });

  it("a tool round trip: the call comes back whole, the tool's result reaches the prompt, the model answers", async () => {
    // The 260K-parameter model never decides to call a tool by itself, so the first turn uses
    // caravan's `tool_choice` extension (OpenAI's): the call is generated under a grammar made
    // from the tools, so its name and arguments are the model's own sampling within the schema.
    const messages: Message[] = [{ role: "user", content: "What is the weather in Paris?" }];
    const first = await ollama.chat({ model: CHATML, messages, tools: [weather], options: { seed: 7, num_predict: 200 }, ...({ tool_choice: "required" } as object) });
    expect(first.done_reason).toBe("stop");
    const calls = first.message.tool_calls ?? [];
    expect(calls.length).toBeGreaterThanOrEqual(1);
    const call = calls[0]! as (typeof calls)[number] & { id?: string };
    expect(call.id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(call.function.name).toBe("get_weather");
    expect(["Paris", "Oslo"]).toContain(call.function.arguments.city);
    expect(Number.isInteger(call.function.arguments.days)).toBe(true);

    // streaming: the call arrives whole in one chunk
    const chunks = [];
    for await (const part of await ollama.chat({ model: CHATML, messages, tools: [weather], stream: true, options: { seed: 7, num_predict: 200 }, ...({ tool_choice: "required" } as object) })) chunks.push(part);
    const withCalls = chunks.filter((c) => (c.message.tool_calls?.length ?? 0) > 0);
    expect(withCalls).toHaveLength(1);
    expect(withCalls[0]!.message.tool_calls![0]!.function).toEqual(call.function);

    // second turn: the result goes back with role tool; the model answers in text
    const result = "It is 18 degrees and sunny in Paris.";
    const followUp = [...messages, first.message, { role: "tool", content: result, tool_name: "get_weather" }];
    const withResult = await ollama.chat({ model: CHATML, messages: followUp, tools: [weather], options: { temperature: 0, num_predict: 8 } });
    const withoutResult = await ollama.chat({ model: CHATML, messages: [...messages, first.message, { role: "tool", content: "", tool_name: "get_weather" }], tools: [weather], options: { temperature: 0, num_predict: 8 } });
    expect(withResult.message.tool_calls ?? []).toHaveLength(0);
    expect(withResult.eval_count).toBeGreaterThan(0);
    // The result text is part of the prompt: greedy decoding continues differently without it.
    // (The engine tests check the rendered prompt itself; the prefix cache makes token counts
    // across requests an unreliable witness here.)
    expect(withResult.message.content).not.toBe(withoutResult.message.content);
  });
});
