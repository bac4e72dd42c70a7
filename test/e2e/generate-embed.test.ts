import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { ndjsonLines, postJson } from "../harness/ndjson.ts";

// /api/generate, /api/embed and /api/embeddings end to end: real HTTP, the real engine on
// stories260K, the official ollama client where it has a method for the endpoint.
const MODEL = "stories260K";
const greedy = (num_predict: number) => ({ temperature: 0, num_predict });
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

async function post(url: string, path: string, body: Record<string, unknown>) {
  const response = await postJson(`${url}${path}`, body);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("generate and embed in one process", () => {
  let deployment: Deployment;
  let url: string;
  let ollama: Ollama;
  beforeAll(async () => {
    deployment = await startSingleProcess();
    url = deployment.gatewayUrls[0]!;
    ollama = new Ollama({ host: url });
  });
  afterAll(async () => deployment?.stop());

  describe("POST /api/generate", () => {
    it("streams `response` chunks and ends with the metrics (ollama client)", async () => {
      const parts: string[] = [];
      let final: Record<string, unknown> | undefined;
      for await (const part of await ollama.generate({ model: MODEL, prompt: "Once upon a time", options: greedy(20), stream: true })) {
        if (part.done) final = part as unknown as Record<string, unknown>;
        else parts.push(part.response ?? "");
      }
      expect(parts.join("").length).toBeGreaterThan(10);
      expect(final).toMatchObject({ model: MODEL, done: true, done_reason: "length", eval_count: 20, response: "" });
      for (const key of ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_duration"]) expect(Number.isInteger(final![key]), key).toBe(true);
    });

    it("stream:false gives the same greedy text as the stream, and as /api/chat with the prompt as a user turn", async () => {
      const once = await ollama.generate({ model: MODEL, prompt: "The little dog", options: greedy(24) });
      const streamed: string[] = [];
      for await (const part of await ollama.generate({ model: MODEL, prompt: "The little dog", options: greedy(24), stream: true })) streamed.push(part.response ?? "");
      expect(once.response).toBe(streamed.join(""));
      const chat = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: "The little dog" }], options: greedy(24) });
      expect(once.response).toBe(chat.message.content);
      // with a system prompt it is the same as a chat with that system message
      const withSystem = await ollama.generate({ model: MODEL, prompt: "The little dog", system: "Be kind.", options: greedy(24) });
      const chatSystem = await ollama.chat({ model: MODEL, messages: [{ role: "system", content: "Be kind." }, { role: "user", content: "The little dog" }], options: greedy(24) });
      expect(withSystem.response).toBe(chatSystem.message.content);
    });

    it("raw sends the prompt without the template: fewer prompt tokens, different text", async () => {
      const templated = await ollama.generate({ model: MODEL, prompt: "Once upon a time", options: greedy(16) });
      const raw = await ollama.generate({ model: MODEL, prompt: "Once upon a time", raw: true, options: greedy(16) });
      expect(raw.prompt_eval_count).toBeLessThan(templated.prompt_eval_count);
      expect(raw.eval_count).toBe(16);
      expect(raw.response).not.toBe(templated.response);
    });

    it("format json constrains the output from its first character", async () => {
      const response = await ollama.generate({ model: MODEL, prompt: "Tell me about a cat", format: "json", options: { seed: 3, num_predict: 30 } });
      expect(response.response!.trimStart()[0]).toMatch(/[{[]/);
    });

    it("an empty prompt loads the model (done_reason load); with keep_alive 0 unloads it", async () => {
      const loaded = await ollama.generate({ model: MODEL, prompt: "" });
      expect(loaded).toMatchObject({ done: true, done_reason: "load", response: "" });
      expect((await ollama.ps()).models.map((m) => m.name)).toContain("stories260k:latest");
      const unloaded = await ollama.generate({ model: MODEL, prompt: "", keep_alive: 0 });
      expect(unloaded).toMatchObject({ done: true, done_reason: "unload" });
      await expect.poll(async () => (await ollama.ps()).models.length, { timeout: 5000 }).toBe(0);
    });

    it("refuses bad input with Ollama's errors", async () => {
      expect(await post(url, "/api/generate", { prompt: "hi" })).toEqual({ status: 400, body: { error: "model is required" } });
      expect(await post(url, "/api/generate", { model: "nope", prompt: "hi" })).toEqual({ status: 404, body: { error: "model 'nope' not found" } });
      expect(await post(url, "/api/generate", { model: MODEL, prompt: 3 })).toEqual({ status: 400, body: { error: "prompt must be a string" } });
      expect(await post(url, "/api/generate", { model: MODEL, prompt: "hi", keep_alive: "soon" })).toMatchObject({ status: 400 });
      expect(await post(url, "/api/generate", { model: MODEL, prompt: "hi", top_logprobs: 21 })).toEqual({ status: 400, body: { error: "top_logprobs must be between 0 and 20" } });
      const images = await post(url, "/api/generate", { model: MODEL, prompt: "hi", images: ["iVBORw0KGgo="] });
      expect(images.status).toBe(400);
      expect(images.body.error).toMatch(/does not support images/);
      const suffix = await post(url, "/api/generate", { model: MODEL, prompt: "def f(", suffix: "return x" });
      expect(suffix.status).toBe(400);
      expect(suffix.body.error).toMatch(/does not support insert/);
    });

    it("writes NDJSON with the right content type", async () => {
      const response = await postJson(`${url}/api/generate`, { model: MODEL, prompt: "Hi", options: greedy(4) });
      expect(response.headers.get("content-type")).toContain("application/x-ndjson");
      const lines = [];
      for await (const line of ndjsonLines(response)) lines.push(line);
      expect(lines.at(-1)).toMatchObject({ done: true, eval_count: 4 });
      expect(lines.slice(0, -1).every((l) => typeof l.response === "string" && l.done === false)).toBe(true);
    });
  });

  describe("POST /api/embed and /api/embeddings", () => {
    it("embeds a list of inputs into normalized vectors (ollama client)", async () => {
      const response = await ollama.embed({ model: MODEL, input: ["The cat sat on the mat.", "A ship sailed far away."] });
      expect(response.model).toBe(MODEL);
      expect(response.embeddings).toHaveLength(2);
      for (const v of response.embeddings) {
        expect(v).toHaveLength(64);
        expect(norm(v)).toBeCloseTo(1, 5);
      }
      expect(response.embeddings[0]).not.toEqual(response.embeddings[1]);
      expect(response.prompt_eval_count).toBeGreaterThan(8);
      expect(response.total_duration).toBeGreaterThan(0);
    });

    it("a single string, dimensions and truncate", async () => {
      const one = await ollama.embed({ model: MODEL, input: "The cat sat on the mat." });
      expect(one.embeddings).toHaveLength(1);
      const cut = await post(url, "/api/embed", { model: MODEL, input: "The cat sat on the mat.", dimensions: 16 });
      expect((cut.body.embeddings as number[][])[0]).toHaveLength(16);
      // a small num_ctx keeps the truncated embedding quick on one CPU thread
      const long = "the cat sat on the mat and ".repeat(100);
      const refused = await post(url, "/api/embed", { model: MODEL, input: long, truncate: false, options: { num_ctx: 256 } });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatch(/more than the context length/);
      const truncated = await post(url, "/api/embed", { model: MODEL, input: long, options: { num_ctx: 256 } });
      expect(truncated.status).toBe(200);
      expect(truncated.body.prompt_eval_count as number).toBeLessThan(256);
    });

    it("the legacy /api/embeddings returns one vector, not normalized, pointing the same way", async () => {
      const legacy = await ollama.embeddings({ model: MODEL, prompt: "The cat sat on the mat." });
      expect(legacy.embedding).toHaveLength(64);
      expect(norm(legacy.embedding)).not.toBeCloseTo(1, 3);
      const unit = (await ollama.embed({ model: MODEL, input: "The cat sat on the mat." })).embeddings[0]!;
      legacy.embedding.forEach((x, i) => expect(x / norm(legacy.embedding)).toBeCloseTo(unit[i]!, 5));
    });

    it("no input loads the model; errors are Ollama's", async () => {
      // absent, "" and [] all load and answer no embeddings, as Ollama does; [""] is one input
      expect(await post(url, "/api/embed", { model: MODEL })).toEqual({ status: 200, body: { model: MODEL, embeddings: [] } });
      expect(await post(url, "/api/embed", { model: MODEL, input: "" })).toEqual({ status: 200, body: { model: MODEL, embeddings: [] } });
      expect(await post(url, "/api/embed", { model: MODEL, input: [] })).toEqual({ status: 200, body: { model: MODEL, embeddings: [] } });
      const emptyString = await post(url, "/api/embed", { model: MODEL, input: [""] });
      expect(emptyString.status).toBe(200);
      expect((emptyString.body.embeddings as number[][]).map((v) => v.length)).toEqual([64]);
      expect(await post(url, "/api/embed", { input: "x" })).toEqual({ status: 400, body: { error: "model is required" } });
      expect(await post(url, "/api/embed", { model: "nope", input: "x" })).toEqual({ status: 404, body: { error: "model 'nope' not found" } });
      expect(await post(url, "/api/embed", { model: MODEL, input: 5 })).toEqual({ status: 400, body: { error: "input must be a string or an array of strings" } });
      expect(await post(url, "/api/embed", { model: MODEL, input: "x", dimensions: 0 })).toEqual({ status: 400, body: { error: "dimensions must be a positive integer" } });
    });
  });
});

describe("generate and embed over Redis (separate gateway and worker processes)", () => {
  let deployment: Deployment;
  let ollama: Ollama;
  beforeAll(async () => {
    deployment = await startRedisCluster({ gateways: 1, workers: 1 });
    ollama = new Ollama({ host: deployment.gatewayUrls[0]! });
  });
  afterAll(async () => deployment?.stop());

  it("generates and embeds across the wire", async () => {
    const generated = await ollama.generate({ model: MODEL, prompt: "Once upon a time", options: greedy(12) });
    expect(generated).toMatchObject({ done: true, done_reason: "length", eval_count: 12 });
    expect(generated.response!.length).toBeGreaterThan(5);
    const raw = await ollama.generate({ model: MODEL, prompt: "Once upon a time", raw: true, options: greedy(12) });
    expect(raw.eval_count).toBe(12);
    const { embeddings } = await ollama.embed({ model: MODEL, input: ["one", "two"] });
    expect(embeddings.map((v) => v.length)).toEqual([64, 64]);
    expect(norm(embeddings[0]!)).toBeCloseTo(1, 5);
  });
});
