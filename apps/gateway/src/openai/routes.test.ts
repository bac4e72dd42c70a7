import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { InMemoryTransport } from "@caravan/transport";
import { createApp } from "../app.ts";
import { Dispatcher } from "../dispatch/dispatcher.ts";
import { advertisedModel, enginelessWorkerState } from "../testing/engineless-worker.ts";

/**
 * The /v1 API in process (no port): listings, and every refusal in OpenAI's error shape. The
 * transport advertises one model and runs no engine, so a request that got through validation
 * would hang: each refusal case proves it never reached a worker. Generation is tested end to
 * end in test/e2e/openai.test.ts.
 */
const MODIFIED = "2025-01-02T03:04:05.000Z";
const transport = new InMemoryTransport();
await transport.advertise(enginelessWorkerState(["stories260k:latest", "hf.co/org/tiny:q8_0"].map((name) => advertisedModel(name, { modified_at: MODIFIED }))));
const log = pino({ level: "silent" });
const dispatcher = new Dispatcher({ transport, log, maxQueue: 4, maxQueuePerModel: 4, queueTimeoutMs: 1000, spillBacklog: 4 });
const app = createApp({ transport, dispatcher, log, version: "9.9.9" });

const post = (path: string, body: unknown) =>
  app.request(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } });

const user = [{ role: "user", content: "Hi" }];

describe("/v1 refusals take OpenAI's error shape", () => {
  const cases: Array<[string, string, unknown, number, Record<string, unknown>]> = [
    ["bad JSON", "/v1/chat/completions", "{nope", 400, { type: "invalid_request_error", param: null, message: expect.stringMatching(/invalid JSON/) }],
    ["a missing model", "/v1/chat/completions", { messages: user }, 400, { param: "model", message: "model is required" }],
    ["no messages", "/v1/chat/completions", { model: "stories260K", messages: [] }, 400, { param: "messages", message: "messages must not be empty" }],
    ["an unknown role", "/v1/chat/completions", { model: "stories260K", messages: [{ role: "wizard", content: "x" }] }, 400, { param: "messages[0].role" }],
    ["a temperature out of range", "/v1/chat/completions", { model: "stories260K", messages: user, temperature: 3 }, 400, { param: "temperature" }],
    ["n other than 1", "/v1/chat/completions", { model: "stories260K", messages: user, n: 2 }, 400, { param: "n", message: expect.stringMatching(/only n=1/) }],
    ["top_logprobs out of range", "/v1/chat/completions", { model: "stories260K", messages: user, logprobs: true, top_logprobs: 21 }, 400, { param: "top_logprobs" }],
    ["an unknown response_format", "/v1/chat/completions", { model: "stories260K", messages: user, response_format: { type: "xml" } }, 400, { param: "response_format.type" }],
    ["an image", "/v1/chat/completions", { model: "stories260K", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:," } }] }] }, 400, { message: expect.stringMatching(/does not support images/) }],
    ["an unknown model", "/v1/chat/completions", { model: "gpt-4o", messages: user }, 404, { type: "invalid_request_error", code: "model_not_found", message: "model 'gpt-4o' not found" }],
    ["two prompts", "/v1/completions", { model: "stories260K", prompt: ["a", "b"] }, 400, { param: "prompt" }],
    ["echo", "/v1/completions", { model: "stories260K", prompt: "a", echo: true }, 400, { param: "echo" }],
    ["an empty prompt (a completion job needs one: the wire schema's rule)", "/v1/completions", { model: "stories260K", prompt: "" }, 400, { code: "bad_request", message: "a completion job needs a prompt" }],
    ["a suffix on a model without FIM", "/v1/completions", { model: "stories260K", prompt: "a", suffix: "b" }, 400, { message: '"stories260K" does not support insert' }],
    ["tools on a model without a template", "/v1/chat/completions", { model: "stories260K", messages: user, tools: [{ type: "function", function: { name: "f" } }] }, 400, { message: '"stories260K" does not support tools' }],
    ["reasoning on a model that cannot think", "/v1/chat/completions", { model: "stories260K", messages: user, reasoning_effort: "high" }, 400, { message: '"stories260K" does not support thinking' }],
    ["an unknown completion model", "/v1/completions", { model: "davinci", prompt: "a" }, 404, { code: "model_not_found" }],
    ["token ids to embed", "/v1/embeddings", { model: "stories260K", input: [[1, 2]] }, 400, { param: "input", message: expect.stringMatching(/token arrays/) }],
    ["an unknown encoding", "/v1/embeddings", { model: "stories260K", input: "a", encoding_format: "hex" }, 400, { param: "encoding_format" }],
    ["an unknown embedding model", "/v1/embeddings", { model: "ada", input: "a" }, 404, { code: "model_not_found" }],
  ];
  it.each(cases)("%s", async (_name, path, body, status, error) => {
    const response = await post(path, body);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toContain("application/json");
    const json = (await response.json()) as { error: Record<string, unknown> };
    expect(Object.keys(json)).toEqual(["error"]);
    expect(Object.keys(json.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(json.error).toMatchObject({ type: "invalid_request_error", ...error });
  });

  it("answers a wrong method with 405 and an unknown path with 404, both in OpenAI's shape", async () => {
    const wrong = await app.request("/v1/chat/completions");
    expect(wrong.status).toBe(405);
    expect(await wrong.json()).toMatchObject({ error: { type: "invalid_request_error", code: "method_not_allowed" } });
    const unknown = await post("/v1/responses", {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { message: "Invalid URL (POST /v1/responses)", type: "invalid_request_error" } });
  });

  it("leaves Ollama's error shape alone outside /v1", async () => {
    const response = await post("/api/chat", { model: "gpt-4o", messages: user });
    expect(await response.json()).toEqual({ error: "model 'gpt-4o' not found" });
  });
});

describe("/v1/models", () => {
  it("lists the cluster's models", async () => {
    const response = await app.request("/v1/models");
    expect(response.status).toBe(200);
    const created = Date.parse(MODIFIED) / 1000;
    expect(await response.json()).toEqual({
      object: "list",
      data: [
        { id: "hf.co/org/tiny:q8_0", object: "model", created, owned_by: "hf.co/org" },
        { id: "stories260k:latest", object: "model", created, owned_by: "library" },
      ],
    });
  });

  it("retrieves one by any spelling of its name, slashes included", async () => {
    for (const id of ["stories260K", "stories260k:latest"]) {
      expect(await (await app.request(`/v1/models/${id}`)).json()).toMatchObject({ id: "stories260k:latest", object: "model" });
    }
    expect(await (await app.request("/v1/models/hf.co/org/tiny:q8_0")).json()).toMatchObject({ id: "hf.co/org/tiny:q8_0" });
  });

  it("answers an unknown model with a 404 in OpenAI's shape", async () => {
    const response = await app.request("/v1/models/gpt-4o");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { message: "model 'gpt-4o' not found", type: "invalid_request_error", param: null, code: "model_not_found" } });
  });
});
