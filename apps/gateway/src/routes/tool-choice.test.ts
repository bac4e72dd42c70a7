import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { InMemoryTransport } from "@caravan/transport";
import { createApp } from "../app.ts";
import { Dispatcher } from "../dispatch/dispatcher.ts";
import { stubWorker } from "../testing/stub-worker.ts";

/**
 * tool_choice in both shapes clients send, on both chat APIs, in process: the nested one of
 * Chat Completions and the flat `{type, name}` of the Responses API (the AI SDK's Ollama provider
 * sends it). Either reaches the worker as the nested shape.
 */
const MODEL = "tiny-chat:latest";
const transport = new InMemoryTransport();
const jobs = await stubWorker(transport, MODEL, ["completion", "embedding", "tools"]);
const log = pino({ level: "silent" });
const dispatcher = new Dispatcher({ transport, log, maxQueue: 8, maxQueuePerModel: 8, queueTimeoutMs: 2000, spillBacklog: 4 });
const app = createApp({ transport, dispatcher, log, version: "9.9.9" });

const post = (path: string, body: unknown) => app.request(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
const messages = [{ role: "user", content: "Weather in Paris?" }];
const NESTED = { type: "function", function: { name: "get_weather" } };
const FLAT = { type: "function", name: "get_weather" };

describe.each([
  ["/api/chat", { stream: false }],
  ["/v1/chat/completions", {}],
])("tool_choice on %s", (path, extra) => {
  it.each([
    ["nested", NESTED],
    ["flat", FLAT],
  ])("takes the %s shape and passes it on nested", async (_shape, tool_choice) => {
    const response = await post(path, { model: MODEL, messages, tools, tool_choice, ...extra });
    expect(response.status, await response.clone().text()).toBe(200);
    const job = jobs.at(-1);
    expect(job?.kind === "chat" && job.tool_choice).toEqual(NESTED);
  });
});

it("a flat tool_choice naming a tool that is not in tools is OpenAI's 400 on /v1", async () => {
  const response = await post("/v1/chat/completions", { model: MODEL, messages, tools, tool_choice: { type: "function", name: "other" } });
  expect(response.status).toBe(400);
  expect(await response.json()).toMatchObject({ error: { param: "tool_choice", message: expect.stringMatching(/'other'/) } });
});
