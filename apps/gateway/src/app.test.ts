import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { InMemoryTransport } from "@caravan/transport";
import { createApp } from "./app.ts";
import { Dispatcher } from "./dispatch/dispatcher.ts";
import { enginelessWorkerState } from "./testing/engineless-worker.ts";

/**
 * The gateway in process (no port): every client mistake gets a 4xx `{"error"}` that names it,
 * before anything reaches a worker. The transport advertises one model and runs no engine:
 * a request that got through validation would hang here, so each case proves it was refused.
 */
const transport = new InMemoryTransport();
await transport.advertise(enginelessWorkerState());
const log = pino({ level: "silent" });
const dispatcher = new Dispatcher({ transport, log, maxQueue: 4, maxQueuePerModel: 4, queueTimeoutMs: 1000, spillBacklog: 4 });
const app = createApp({ transport, dispatcher, log, version: "9.9.9" });

const post = (body: string | undefined, path = "/api/chat") =>
  app.request(path, { method: "POST", body, headers: body === undefined ? {} : { "content-type": "application/json" } });

describe("POST /api/chat refuses bad input with a 400 that names the problem", () => {
  const cases: Array<[string, string | undefined, number, RegExp]> = [
    ["no body", undefined, 400, /missing request body/],
    ["an empty body", "", 400, /missing request body/],
    ["bad JSON", "{nope", 400, /invalid JSON/],
    ["a JSON array", "[]", 400, /must be a JSON object/],
    ["a missing model", JSON.stringify({ messages: [] }), 400, /^model is required$/],
    ["an empty model", JSON.stringify({ model: "", messages: [] }), 400, /^model is required$/],
    ["messages not an array", JSON.stringify({ model: "stories260K", messages: "hi" }), 400, /messages.*array/],
    ["an unknown role", JSON.stringify({ model: "stories260K", messages: [{ role: "wizard", content: "x" }] }), 400, /messages\[0\]\.role.*wizard/],
    ["an option of the wrong type", JSON.stringify({ model: "stories260K", messages: [], options: { temperature: "hot" } }), 400, /options\.temperature/],
    ["stop of the wrong type", JSON.stringify({ model: "stories260K", messages: [], options: { stop: [1] } }), 400, /options\.stop/],
    ["stream not a boolean", JSON.stringify({ model: "stories260K", messages: [], stream: "yes" }), 400, /stream/],
    ["a bad keep_alive", JSON.stringify({ model: "stories260K", messages: [], keep_alive: "forever" }), 400, /keep_alive/],
    ["top_logprobs out of range", JSON.stringify({ model: "stories260K", messages: [], top_logprobs: 21 }), 400, /top_logprobs must be between 0 and 20/],
    ["an unknown model", JSON.stringify({ model: "llama3", messages: [] }), 404, /^model 'llama3' not found$/],
    ["images", JSON.stringify({ model: "stories260K", messages: [{ role: "user", content: "what is this?", images: ["aGVsbG8="] }] }), 400, /does not support images/],
    ["tools on a model without a chat template", JSON.stringify({ model: "stories260K", messages: [{ role: "user", content: "hi" }], tools: [{ type: "function", function: { name: "f" } }] }), 400, /^"stories260K" does not support tools$/],
  ];
  it.each(cases)("%s", async (_name, body, status, message) => {
    const response = await post(body);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toContain("application/json");
    const json = (await response.json()) as { error: string };
    expect(Object.keys(json)).toEqual(["error"]);
    expect(json.error).toMatch(message);
  });
});

describe("the probe endpoints", () => {
  it("GET / and HEAD / say Ollama is running", async () => {
    const get = await app.request("/");
    expect(get.status).toBe(200);
    expect(await get.text()).toBe("Ollama is running");
    const head = await app.request("/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("GET /api/version reports the version", async () => {
    expect(await (await app.request("/api/version")).json()).toEqual({ version: "9.9.9" });
  });

  it("GET /api/tags lists what workers advertise", async () => {
    const body = (await (await app.request("/api/tags")).json()) as { models: Array<{ name: string }> };
    expect(body.models.map((m) => m.name)).toEqual(["stories260k:latest"]);
  });

  it("a wrong method is a 405 and an unknown path a 404", async () => {
    const wrong = await app.request("/api/chat");
    expect(wrong.status).toBe(405);
    expect(await wrong.json()).toEqual({ error: "method not allowed" });
    expect((await app.request("/api/nope")).status).toBe(404);
  });
});
